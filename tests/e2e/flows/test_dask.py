"""The train flow's candidate fits on a real Dask cluster: a scheduler and two workers."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from lifecycle.orchestration.runtime import setup
from lifecycle.system import free_port
from tests.e2e.flows.conftest import background
from tests.integration.flows.support import in_project, make_project
from tests.support.prefect import pytest_env
from tests.support.project import fast_params_raw

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def _workers(address: str, expected: int, timeout: float = 90) -> set[str]:
    """The cluster's worker addresses once `expected` have joined."""
    from distributed import Client

    deadline = time.monotonic() + timeout
    with Client(address, timeout=30) as client:
        while time.monotonic() < deadline:
            found = set(client.scheduler_info()["workers"])
            if len(found) >= expected:
                return found
            time.sleep(0.5)
    raise AssertionError(f"only {len(found)} Dask worker(s) joined {address}")


def test_candidate_fits_run_on_the_dask_workers(prefect_api: str, tmp_path: Path) -> None:
    """DASK_SCHEDULER_ADDRESS sends the same flow's fits to an existing cluster."""
    from lifecycle import features, ingest, validate
    from lifecycle.orchestration.flows_train import train_flow

    candidates = [
        {"name": "logreg", "family": "logistic_regression", "params": {"C": 1.0}},
        {"name": "logreg_l2", "family": "logistic_regression", "params": {"C": 0.2}},
    ]
    root = make_project(tmp_path / "project", fast_params_raw(candidates))
    address = f"tcp://127.0.0.1:{free_port()}"
    env = {"PREFECT_API_URL": prefect_api, "PREFECT_HOME": str(tmp_path / "dask-home"),
           "LIFECYCLE_HOME": str(root)}  # fmt: skip
    scheduler = [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1",
                 "--port", address.rsplit(":", 1)[1], "--no-dashboard"]  # fmt: skip
    worker = [str(BIN / "dask"), "worker", address, "--nthreads", "1", "--host", "127.0.0.1",
              "--no-dashboard", "--memory-limit", "3GiB"]  # fmt: skip
    with (
        in_project(root),
        background(scheduler, tmp_path / "scheduler.log", env, root),
        background([*worker, "--name", "w1"], tmp_path / "w1.log", env, root),
        background([*worker, "--name", "w2"], tmp_path / "w2.log", env, root),
    ):
        params, paths = setup(None)
        ingest.ingest(params.data, params.simulation, paths)
        validate.validate_reference(params, paths)
        features.split(params, paths)
        workers = _workers(address, 2)
        with pytest_env(DASK_SCHEDULER_ADDRESS=address):
            result = train_flow()
    assert len(result.fits) == 2
    assert result.workers <= workers, (result.workers, workers)
    assert all(f.pid != os.getpid() for f in result.fits)
    assert result.promoted and result.champion_version == "1"
