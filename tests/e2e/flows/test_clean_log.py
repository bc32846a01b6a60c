"""A clean train through the CLI: a readable summary, and a log without noise or fixed ports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lifecycle import features, ingest, validate
from lifecycle.orchestration.runtime import setup
from tests.integration.flows.support import in_project, make_project
from tests.support.project import fast_params_raw

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
NOISE = (
    "Failed to resolve installed pip version",  # MLflow inferring the model's pip requirements
    "Worker process still alive",  # a Dask worker killed at the cluster's shutdown
    ":8787",  # the Dask dashboard's fixed port
    "CommClosedError",  # the scheduler's last send to a worker that already left
)


def _train(root: Path, api: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`lifecycle flow train` in the project, against the test's Prefect server."""
    env = {**os.environ, "LIFECYCLE_HOME": str(root), "PREFECT_API_URL": api}
    for name in ("LIFECYCLE_PARAMS", "LIFECYCLE_LEDGER_URL", "MLFLOW_TRACKING_URI", "CI",
                 "DASK_SCHEDULER_ADDRESS"):  # fmt: skip
        env.pop(name, None)
    done = subprocess.run(
        [str(BIN / "lifecycle"), "flow", "train", *args],
        capture_output=True, text=True, env=env, cwd=root, timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    return done


def test_a_train_on_a_local_dask_cluster_logs_no_noise(prefect_api: str, tmp_path: Path) -> None:
    """Two candidates on two local Dask workers: the log a newcomer reads is clean."""
    candidates = [
        {"name": "logreg", "family": "logistic_regression", "params": {"C": 1.0}},
        {"name": "logreg_l2", "family": "logistic_regression", "params": {"C": 0.2}},
    ]
    root = make_project(tmp_path / "project", fast_params_raw(candidates))
    with in_project(root):
        params, paths = setup(None)
        assert params.orchestration.dask_workers > 1  # so the fits run on a local cluster
        ingest.ingest(params.data, params.simulation, paths)
        validate.validate_reference(params, paths)
        features.split(params, paths)

    first = _train(root, prefect_api)
    log = first.stdout + first.stderr
    assert "Creating a new Dask cluster" in log  # the local cluster did run
    for line in NOISE:
        assert line not in log, line
    assert "TrainFlowResult" not in first.stdout
    assert "champion:   telco-churn v1" in first.stdout
    assert "challenger: v1, newly trained" in first.stdout
    assert "PROMOTED" in first.stdout and "cost:" in first.stdout
    assert "logreg, logreg_l2" in first.stdout

    again = _train(root, prefect_api, "--json")  # same data and params: the version is reused
    result = json.loads(again.stdout)
    assert result["reused"] is True and result["champion_version"] == "1"
    assert result["cost"]["ledger_key"]
