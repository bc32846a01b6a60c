"""`kill -9` of `lifecycle run`: the next start marks what it left Crashed, with no manual step.

A real `lifecycle run` process against the session's Prefect server is killed with SIGKILL
while a subflow runs; a real `lifecycle flow ingest` then starts, and the killed runs'
ledger rows are closed as crashed and their Prefect flow runs are Crashed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.flows.support import in_project, ledger_entries, make_project

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
WAIT_S = 600


def _env(root: Path, api: str) -> dict[str, str]:
    env = {**os.environ, "LIFECYCLE_HOME": str(root), "PREFECT_API_URL": api}
    for name in ("LIFECYCLE_PARAMS", "LIFECYCLE_LEDGER_URL", "MLFLOW_TRACKING_URI", "CI",
                 "DASK_SCHEDULER_ADDRESS"):  # fmt: skip
        env.pop(name, None)
    return env


def _running(root: Path) -> dict[str, Any]:
    """The project's ledger rows still `running`, by name."""
    if not (root / "ledger.db").is_file():
        return {}
    try:
        return {e.name: e for e in ledger_entries(root) if e.status == "running"}
    except Exception:  # the table is not created yet by the process under test
        return {}


def _states(flow_run_ids: list[str]) -> dict[str, str]:
    from uuid import UUID

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return {i: client.read_flow_run(UUID(i)).state.type.value for i in flow_run_ids}  # type: ignore[union-attr]


def test_a_killed_run_is_closed_at_the_next_start(prefect_api: str, tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    env = _env(root, prefect_api)
    log = (tmp_path / "run.log").open("wb")
    proc = subprocess.Popen(
        [str(BIN / "lifecycle"), "run", "--quiet"], cwd=root, env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + WAIT_S
    try:
        while len(left := _running(root)) < 2:  # the outer flow and a subflow
            assert proc.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "no subflow started"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    # what the kill left: the outer flow's row (open since its start) and its subflow's
    assert "lifecycle" in left and len(left) >= 2, sorted(left)
    killed = {name: str(e.links["prefect_flow_run_id"]) for name, e in left.items()}
    assert all(s == "RUNNING" for s in _states(list(killed.values())).values())

    # the next start, a real process: no `ledger reconcile`, no manual step
    done = subprocess.run(
        [str(BIN / "lifecycle"), "flow", "ingest", "--quiet"], cwd=root, env=env,
        capture_output=True, text=True, timeout=WAIT_S, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    with in_project(root):
        rows = {e.key: e for e in ledger_entries(root)}
    for name, entry in left.items():
        assert rows[entry.key].status == "crashed", (name, rows[entry.key].status)
    assert not _running(root)
    assert set(_states(list(killed.values())).values()) == {"CRASHED"}, killed
