"""Shared by the flow tests: a throwaway DVC project, a real Prefect server, free ports."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from lifecycle.paths import Paths
from lifecycle.system import free_port

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
COPIED = ("dvc.yaml", ".dvcignore", "src/lifecycle/train.py", "src/lifecycle/features.py",
          "src/lifecycle/evaluate.py", "src/lifecycle/promote.py")  # fmt: skip


def small_params(candidates: Sequence[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The repository's params with fewer candidates and bootstrap samples, to keep tests quick."""
    raw: dict[str, Any] = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["train"]["candidates"] = list(
        candidates or [{"name": "logreg", "family": "logistic_regression", "params": {"C": 1.0}}]
    )
    raw["promotion"]["bootstrap_samples"] = 200
    return raw


def write_params(root: Path, raw: dict[str, Any]) -> None:
    """params.yaml at the project root: the file both `dvc repro` and the flows read."""
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


def make_project(root: Path, raw: dict[str, Any] | None = None) -> Path:
    """A DVC project (no git) with the pipeline, the flows' entry points and a local remote."""
    root.mkdir(parents=True, exist_ok=True)
    for rel in COPIED:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, root / rel)
    shutil.copytree(REPO / "flows", root / "flows", ignore=shutil.ignore_patterns("__pycache__"))
    write_params(root, raw or small_params())
    dvc(root, "init", "--no-scm", "-q")
    dvc(root, "config", "core.analytics", "false")
    dvc(root, "remote", "add", "-d", "local", str(root.parent / f"{root.name}-remote"))
    return root


def dvc(root: Path, *args: str) -> str:
    """Run dvc in a project; its stdout (fails the test on a non-zero exit)."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    done = subprocess.run(
        [str(BIN / "dvc"), *args], cwd=root, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"dvc {' '.join(args)}: {done.stdout}\n{done.stderr}"
    return done.stdout


@contextmanager
def prefect_server(home_root: Path) -> Iterator[str]:
    """A real `prefect server start` on a free port, via the project's own server manager."""
    from lifecycle.orchestration import server

    paths = Paths(home_root)
    with pytest_env(PREFECT_API_URL=None):
        found = server.start(paths, free_port(), timeout=240)
    try:
        yield found.api_url
    finally:
        server.stop(paths)


@contextmanager
def pytest_env(**values: str | None) -> Iterator[None]:
    """Set (or, with None, unset) environment variables for the block."""
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def use_api(api_url: str, home: Path) -> Iterator[None]:
    """Point this process (already-imported Prefect included) and its children at a server."""
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    _drain_services()
    try:
        with (
            pytest_env(PREFECT_API_URL=api_url, PREFECT_HOME=str(home)),
            temporary_settings(updates={PREFECT_API_URL: api_url, PREFECT_HOME: str(home)}),
        ):
            yield
            _drain_services()
    finally:
        _drain_services()


def _drain_services() -> None:
    """Stop Prefect's cached event and log senders: they keep the server URL they started with."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    EventsWorker.drain_all(timeout=10)
    APILogWorker.drain_all(timeout=10)


@contextmanager
def in_project(root: Path) -> Iterator[None]:
    """LIFECYCLE_HOME at the project; no stray params, ledger or tracking overrides."""
    with pytest_env(
        LIFECYCLE_HOME=str(root),
        LIFECYCLE_PARAMS=None,
        LIFECYCLE_LEDGER_URL=None,
        MLFLOW_TRACKING_URI=None,
        DASK_SCHEDULER_ADDRESS=None,
    ):
        yield
    from lifecycle.ledger.session import dispose_engines

    dispose_engines()


def flow_run_tags(flow_run_id: str) -> list[str]:
    """The tags a flow run carries on the server."""
    from uuid import UUID

    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return list(client.read_flow_run(UUID(flow_run_id)).tags)


def ledger_entries(root: Path) -> list[Any]:
    """Every ledger entry of a project."""
    from lifecycle.ledger.queries import iter_entries

    return list(iter_entries(f"sqlite:///{root / 'ledger.db'}"))
