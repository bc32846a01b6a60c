"""Deployments on a real server, run by a real `process` worker; drift starts the retrain."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from lifecycle.orchestration.runtime import setup
from tests.e2e.flows.conftest import background
from tests.integration.flows.support import in_project, make_project

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent


def _runs_of(deployment_id: str) -> list[Any]:
    """Flow runs of one deployment."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    with get_client(sync_client=True) as client:
        return list(
            client.read_flow_runs(
                deployment_filter=DeploymentFilter(
                    id=DeploymentFilterId(any_=[UUID(deployment_id)])
                )
            )
        )


def _wait_final(deployment_id: str, timeout: float, log: Path, since: datetime) -> Any:
    """The deployment's first flow run created since the test began, once it reaches a final
    state (the session's server may hold runs of the same deployment name from other tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = [r for r in _runs_of(deployment_id) if r.created is None or r.created >= since]
        if runs and runs[0].state and runs[0].state.is_final():
            return runs[0]
        time.sleep(2)
    raise AssertionError(f"no final run of {deployment_id} in {timeout} s; worker log:\n"
                         + log.read_text()[-4000:])  # fmt: skip


def test_worker_runs_deployments_and_drift_starts_the_retrain(
    prefect_api: str, tmp_path: Path
) -> None:
    """ingest through the worker; the monitor flow's drift event starts the retrain deployment."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    from lifecycle.orchestration.deploy import deploy_all
    from lifecycle.orchestration.flows_monitor import monitor_flow

    began = datetime.now(UTC)
    root = make_project(tmp_path / "project")
    log = tmp_path / "worker.log"
    with in_project(root):
        params, paths = setup(None)
        ids = deploy_all(params, paths)
        with get_client(sync_client=True) as client:
            schedules = {n: client.read_deployment(UUID(i)).schedules for n, i in ids.items()}
        assert schedules["ingest"][0].schedule.cron == params.orchestration.ingest_cron
        assert schedules["monitor"][0].schedule.cron == params.orchestration.monitor_cron
        assert not schedules["train"] and not schedules["retrain"]

        pool = params.orchestration.work_pool
        cmd = [str(BIN / "prefect"), "worker", "start", "--pool", pool, "--type", "process"]
        env = {"PREFECT_API_URL": prefect_api, "PREFECT_HOME": str(tmp_path / "worker-home"),
               "PREFECT_WORKER_QUERY_SECONDS": "2"}  # fmt: skip
        with background(cmd, log, env, root):
            run_deployment("ingest/ingest", timeout=0)
            ingest = _wait_final(ids["ingest"], 300, log, began)
            assert ingest.state.is_completed(), ingest.state.message
            assert "trigger:schedule" in ingest.tags or "stage:ingest" in ingest.tags
            assert (root / "data" / "processed" / "train.parquet").is_file()

            watched = monitor_flow(month=1, scenario="price_increase")
            assert watched.drift and watched.retrain and watched.event_emitted

            retrain = _wait_final(ids["retrain"], 420, log, began)
            assert retrain.state.is_completed(), retrain.state.message
            assert retrain.parameters["window"] == watched.window
            assert {"stage:retrain", "trigger:event", "model:v1"} <= set(retrain.tags)
