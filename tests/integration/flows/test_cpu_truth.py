"""The ledger's CPU-seconds for a real flow process agree with the kernel's (Dask workers too)."""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.flows.conftest import Trained
from tests.integration.flows.support import in_project, ledger_entries, write_params
from tests.support.project import fast_params_raw

pytestmark = pytest.mark.slow

TRAIN = "from lifecycle.orchestration.flows_train import train_flow; train_flow()"


def _children_cpu() -> float:
    """CPU seconds of this process's waited-for children (and theirs), per the kernel."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def test_a_train_process_is_priced_for_the_cpu_the_os_counts(
    api: str, trained: Trained, tmp_path: Path
) -> None:
    """`train_flow` in its own process, fits on two Dask worker processes: ratio 0.9-1.1."""
    root = tmp_path / "project"
    shutil.copytree(trained.root, root, ignore=shutil.ignore_patterns(".prefect"))
    write_params(
        root,
        fast_params_raw(  # new params, so the fits run (on the local Dask cluster) instead of reuse
            [
                {"name": "logreg-a", "family": "logistic_regression", "params": {"C": 0.3}},
                {"name": "logreg-b", "family": "logistic_regression", "params": {"C": 3.0}},
            ]
        ),
    )
    before_keys = {e.key for e in ledger_entries(root)}
    with in_project(root):
        before = _children_cpu()
        proc = subprocess.Popen([sys.executable, "-c", TRAIN], cwd=root)
        assert proc.wait(timeout=900) == 0
        os_seconds = _children_cpu() - before
    new = [e for e in ledger_entries(root) if e.key not in before_keys]
    assert {e.name for e in new} == {"train"} and {e.pid for e in new} == {proc.pid}
    ledger_seconds = sum(e.usage.cpu_seconds for e in new)
    assert os_seconds > 3.0
    assert 0.9 <= ledger_seconds / os_seconds <= 1.1, (ledger_seconds, os_seconds)
