"""A metered run puts its cost and ledger key on its Prefect flow run and its MLflow run."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from lifecycle.config import Params
from lifecycle.ledger.meter import metered

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prefect_server(prefect_api: str) -> None:
    """The session's shared Prefect server (runs are told apart by id)."""


def _flow_tags(flow_run_id: str) -> list[str]:
    """The tags the server holds for a flow run."""
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return list(client.read_flow_run(uuid.UUID(flow_run_id)).tags)


def _cost_tags(tags: list[str]) -> dict[str, str]:
    """The ledger's 'cost.*=v' and 'ledger.*=v' tags as a mapping."""
    pairs = (t.split("=", 1) for t in tags if t.startswith(("cost.", "ledger.")))
    return {k: v for k, v in pairs}


def _trivial_flow(tags: tuple[str, ...] = ()) -> Callable[[], str]:
    """A flow that returns its own run id (built lazily so importing this module is cheap)."""
    from prefect import flow
    from prefect import tags as tag_context
    from prefect.runtime import flow_run

    @flow(name="ledger-tag-probe")
    def probe() -> str:
        """Do nothing but say which flow run this is."""
        return str(flow_run.id)

    def run() -> str:
        """Run the probe under the given tags."""
        with tag_context(*tags):
            return str(probe())

    return run


def test_a_flow_metered_from_outside_is_tagged_with_its_cost(
    prefect_server: None, params: Params, sqlite_url: str
) -> None:
    """Link the flow run to the metered block: its tags carry the entry's cost and key."""
    from lifecycle.ledger.meter import metered

    with metered("flow", "probe", "maintenance", "manual", run_key="outside", params=params,
                 url=sqlite_url, measure_storage=False) as run:  # fmt: skip
        flow_run_id = _trivial_flow(("stage:probe",))()
        run.link(prefect_flow_run_id=flow_run_id)
        run.charge("rollback")
    entry = run.entry
    assert entry is not None and entry.staff_usd > 0
    tags = _flow_tags(flow_run_id)
    assert "stage:probe" in tags
    assert _cost_tags(tags) == entry.tags()
    assert _cost_tags(tags)["ledger.key"] == "outside"
    assert float(_cost_tags(tags)["cost.total_usd"]) == pytest.approx(entry.total_usd, abs=1e-6)


def test_a_run_metered_inside_a_flow_finds_and_tags_its_flow_run(
    prefect_server: None, params: Params, sqlite_url: str
) -> None:
    """Inside a flow the meter links the current flow run by itself and tags it."""
    from prefect import flow
    from prefect.runtime import flow_run

    from lifecycle.ledger.meter import metered
    from lifecycle.ledger.queries import get_entry

    @flow(name="ledger-tag-inside")
    def inside() -> str:
        """Meter a block from within the flow run."""
        with metered("flow", "inside", "maintenance", "schedule", run_key="inside",
                     params=params, url=sqlite_url, measure_storage=False):  # fmt: skip
            sum(range(10_000))
        return str(flow_run.id)

    flow_run_id = inside()
    entry = get_entry("inside", sqlite_url)
    assert entry is not None
    assert entry.links["prefect_flow_run_id"] == flow_run_id
    assert _cost_tags(_flow_tags(flow_run_id)) == entry.tags()


def test_retagging_replaces_the_cost_and_keeps_other_tags(
    prefect_server: None, params: Params, sqlite_url: str
) -> None:
    """A re-priced entry's tags replace the old cost tags; the run's own tags stay."""
    import dataclasses

    from lifecycle.ledger.meter import metered
    from lifecycle.ledger.tags import tag_runs

    with metered("flow", "probe", "maintenance", "manual", run_key="retag", params=params,
                 url=sqlite_url, measure_storage=False) as run:  # fmt: skip
        flow_run_id = _trivial_flow(("keep-me",))()
        run.link(prefect_flow_run_id=flow_run_id)
    assert run.entry is not None
    assert _cost_tags(_flow_tags(flow_run_id)) == run.entry.tags()
    dearer = dataclasses.replace(run.entry, staff=(), cost=dataclasses.replace(
        run.entry.cost, cpu_usd=run.entry.cost.cpu_usd + 1.25))  # fmt: skip
    tag_runs(dearer)
    tags = _flow_tags(flow_run_id)
    assert "keep-me" in tags
    assert _cost_tags(tags) == dearer.tags()
    assert sum(t.startswith("cost.total_usd=") for t in tags) == 1


def test_without_a_prefect_api_nothing_is_tagged_and_the_run_still_succeeds(
    params: Params, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """No server configured: a warning, no client started, the entry written."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from lifecycle.ledger.meter import metered

    fake_id = str(uuid.uuid4())
    with temporary_settings(restore_defaults={PREFECT_API_URL}), metered(
        "flow", "probe", "maintenance", "manual", links={"prefect_flow_run_id": fake_id},
        run_key="no-api", params=params, url=sqlite_url, measure_storage=False,
    ) as run:  # fmt: skip
        pass
    assert run.entry is not None and run.entry.status == "succeeded"
    assert f"flow run {fake_id} not tagged" in caplog.text


@pytest.mark.slow
def test_mlflow_run_gets_the_cost_tags(
    params: Params, sqlite_url: str, project_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run linked to an MLflow run leaves cost.* and ledger.key tags on it."""
    uri = f"sqlite:///{project_root / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow.tracking import MlflowClient

    # explicit URI: an earlier test in this process may have set MLflow's global one
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("ledger-test")
    mlrun = client.create_run(exp)
    with metered("flow", "train", "development", "manual", params=params, url=sqlite_url) as run:
        run.link(mlflow_run_id=mlrun.info.run_id)
        run.charge("promotion_review")
    tags = client.get_run(mlrun.info.run_id).data.tags
    assert run.entry is not None
    assert tags["ledger.key"] == run.key
    assert float(tags["cost.total_usd"]) == pytest.approx(run.entry.total_usd, abs=1e-5)
    assert float(tags["cost.staff_usd"]) == pytest.approx(run.entry.staff_usd)
