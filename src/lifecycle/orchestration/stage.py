"""One way to run a flow as a stage: params, tags, a priced ledger entry, a published cost.

    with stage_run("train", phase, trigger, params_file) as stage, stage.ledger() as run:
        ...  # the flow's own work, metered as one ledger entry (failures included)
    return Result(..., cost=stage.cost)

Entering tags the flow run `stage:<name>` and `trigger:<trigger>`. `stage.ledger()` is the
block priced as this flow run's own entry; a flow whose subflows are priced apart (retrain,
lifecycle) opens it around its own part only. On a clean exit the run is tagged
`model:v<version>` (the entry's model_version link, or `stage.model_version`) and the cost
artifact is published (the entry's cost, or `stage.published`); a failure does neither.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from lifecycle.config import Params
from lifecycle.ledger.meter import MeteredRun, metered
from lifecycle.orchestration.artifacts import publish_cost
from lifecycle.orchestration.results import Cost
from lifecycle.orchestration.runtime import run_id, setup, tag_run
from lifecycle.paths import Paths


@dataclass
class Stage:
    """A flow run as a stage: what it works with, its ledger entry, what to tag and publish."""

    name: str
    phase: str
    trigger: str
    params: Params
    paths: Paths
    run: MeteredRun | None = None
    model_version: str | None = None
    published: Cost | None = None

    @contextmanager
    def ledger(self) -> Iterator[MeteredRun]:
        """This flow run's own ledger entry (failures included), linked to the Prefect run."""
        with metered(
            "flow",
            self.name,
            self.phase,
            self.trigger,
            links={"prefect_flow_run_id": run_id()},
            params=self.params,
            paths=self.paths,
        ) as run:
            self.run = run
            yield run

    @property
    def cost(self) -> Cost:
        """The priced entry the meter wrote when the ledger block closed."""
        if self.run is None:
            raise RuntimeError(f"stage {self.name!r}: its ledger block never ran")
        entry = self.run.entry
        if entry is None:
            return Cost(self.run.key, 0.0, 0.0, 0.0)
        return Cost(entry.key, entry.total_usd, entry.compute_usd, entry.staff_usd)

    def finish(self) -> None:
        """Tag the run with the model it produced and publish the cost artifact."""
        linked = self.run.links.get("model_version") if self.run is not None else None
        model = self.model_version or linked
        if model:
            tag_run(f"model:v{model}")
        publish_cost(self.name, self.published if self.published is not None else self.cost)


@contextmanager
def stage_run(name: str, phase: str, trigger: str, params_file: str | None) -> Iterator[Stage]:
    """Set up and tag a flow run as a stage; on a clean exit tag its model and publish its cost."""
    params, paths = setup(params_file)
    tag_run(f"stage:{name}", f"trigger:{trigger}")
    stage = Stage(name, phase, trigger, params, paths)
    yield stage
    stage.finish()
