"""Shared by the flow tests: a throwaway DVC project and what they read back from it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from tests.support.prefect import pytest_env
from tests.support.project import fast_params_raw

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
COPIED = ("dvc.yaml", ".dvcignore", "src/lifecycle/train.py", "src/lifecycle/features.py",
          "src/lifecycle/evaluate.py", "src/lifecycle/promote.py")  # fmt: skip


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
    write_params(root, raw or fast_params_raw())
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
