"""The Prefect and MLflow runs an entry links to: find the flow run, put the cost on both."""

from __future__ import annotations

import logging
import sys
import uuid

from lifecycle.ledger.models import LedgerEntry, Rollup
from lifecycle.paths import Paths
from lifecycle.registry import tracking_uri
from lifecycle.settings import get_settings

log = logging.getLogger(__name__)


def current_prefect_flow_run_id() -> str | None:
    """The current Prefect flow run's id, only if Prefect is already loaded (never imports it)."""
    if "prefect.runtime" not in sys.modules:
        return None
    try:
        from prefect.runtime import flow_run

        run_id = flow_run.id
    except Exception as err:  # prefect's runtime raises varied errors outside a run
        log.debug("no Prefect flow run in context: %s", err)
        return None
    return str(run_id) if run_id else None


def tag_runs(entry: LedgerEntry, rollup: Rollup | None = None) -> None:
    """Put the cost on the linked MLflow and Prefect runs; best effort, never fails the run."""
    tags = entry.tags(rollup)
    mlflow_id = entry.links.get("mlflow_run_id")
    if mlflow_id:
        try:
            _tag_mlflow(mlflow_id, tags)
        except Exception as err:  # any tracking failure must not fail the priced run
            log.warning("could not tag MLflow run %s with its cost: %s", mlflow_id, err)
    flow_run_id = entry.links.get("prefect_flow_run_id")
    if flow_run_id:
        try:
            _tag_prefect(flow_run_id, tags)
        except Exception as err:  # no Prefect server answering must not fail the priced run
            log.warning("could not tag Prefect flow run %s with its cost: %s", flow_run_id, err)


def _tag_mlflow(run_id: str, tags: dict[str, str]) -> None:
    """Set the cost tags on an MLflow run (tracking URI from the environment)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri(Paths.from_env()))
    for key, value in tags.items():
        client.set_tag(run_id, key, value)


def _prefect_api_url() -> str | None:
    """The Prefect API configured by env, profile or settings context (None: no server)."""
    configured = get_settings().prefect_api_url
    if configured:
        return configured
    from prefect.settings import PREFECT_API_URL

    value = PREFECT_API_URL.value()
    return str(value) if value else None


def _tag_prefect(flow_run_id: str, tags: dict[str, str]) -> None:
    """Add 'cost.*=value' tags to a Prefect flow run, only against a configured server."""
    if not _prefect_api_url():
        log.warning("no Prefect API configured: flow run %s not tagged with its cost", flow_run_id)
        return
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        current = client.read_flow_run(uuid.UUID(flow_run_id))
        kept = [t for t in current.tags if not t.startswith(("cost.", "ledger."))]
        client.update_flow_run(
            uuid.UUID(flow_run_id), tags=kept + [f"{k}={v}" for k, v in tags.items()]
        )
