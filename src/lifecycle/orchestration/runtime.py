"""What every flow does around its work: params, tags on its run, its ledger entry."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.runtime import flow_run

from lifecycle.config import Params, load_params
from lifecycle.env import apply_offline_defaults
from lifecycle.ledger.meter import MeteredRun, metered
from lifecycle.orchestration.results import Cost
from lifecycle.paths import Paths

TRIGGERS = ("schedule", "event", "manual", "drift", "ci")


def setup(params_file: str | None) -> tuple[Params, Paths]:
    """The params and paths `dvc repro` uses: LIFECYCLE_PARAMS or <root>/params.yaml."""
    apply_offline_defaults()
    paths = Paths.from_env()
    default = paths.root / "params.yaml"
    chosen = params_file or os.environ.get("LIFECYCLE_PARAMS") or str(default)
    return load_params(Path(chosen)), paths


def run_id() -> str:
    """The current flow run's id."""
    return str(flow_run.get_id())


def tag_run(*tags: str) -> None:
    """Add tags to the current flow run (stage, trigger, model version), keeping its others."""
    with get_client(sync_client=True) as client:
        current = client.read_flow_run(flow_run.get_id())  # type: ignore[arg-type]
        merged = list(dict.fromkeys([*current.tags, *tags]))
        client.update_flow_run(current.id, tags=merged)


@contextmanager
def ledger(
    name: str, phase: str, trigger: str, params: Params, paths: Paths
) -> Iterator[MeteredRun]:
    """This flow run's ledger entry (failures included), linked to the Prefect run."""
    with metered(
        "flow",
        name,
        phase,
        trigger,
        links={"prefect_flow_run_id": run_id()},
        params=params,
        paths=paths,
    ) as run:
        yield run


def cost_of(run: MeteredRun) -> Cost:
    """The priced entry the meter wrote when the block closed."""
    entry = run.entry
    if entry is None:
        return Cost(run.key, 0.0, 0.0, 0.0)
    return Cost(entry.key, entry.total_usd, entry.compute_usd, entry.staff_usd)
