"""One way to run a flow as a stage: params, tags, a priced ledger entry, a published cost.

    with stage_run("train", phase, trigger, params_file) as stage, stage.ledger() as run:
        ...  # the flow's work, metered as one ledger entry (failures included)
    return Result(..., cost=stage.cost)

The ledger entry opens as the stage starts and closes when it ends, so a run that fails at any
point (params that do not load included) has exactly one row. Subflows run inside a stage are
metered as its children (`parent_key`): the stage's row keeps its own overhead, and its tags and
cost artifact show the whole (`MeteredRun.rollup`). Entering tags the flow run `stage:<name>`
and `trigger:<trigger>`; on a clean exit the run is tagged `model:v<version>` (the entry's
model_version link, or `stage.model_version`) and the cost artifact is published (the whole
cost, or `stage.published`); a failure does neither. An outermost stage first closes what
killed processes left running (`orchestration.crashed`: ledger rows and Prefect runs).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from lifecycle.config import Params, default_params_file
from lifecycle.ledger.meter import MeteredRun, metered
from lifecycle.orchestration.artifacts import publish_cost
from lifecycle.orchestration.crashed import reap_quietly
from lifecycle.orchestration.notify import after_stage
from lifecycle.orchestration.results import Cost
from lifecycle.orchestration.runtime import is_subflow, pinned_threads, run_id, setup, tag_run
from lifecycle.paths import Paths

PRICING_SECTIONS = ("prices", "resources", "staffing")


def pricing_params(params_file: str | None) -> Params:
    """The price sheet of a params file that fails to load, to price its failed run anyway."""
    source = Path(params_file) if params_file else default_params_file()
    try:
        raw = yaml.safe_load(source.read_text())
    except (OSError, yaml.YAMLError):
        raw = None
    raw = raw if isinstance(raw, dict) else {}
    sections = {}
    for name in PRICING_SECTIONS:
        field = Params.model_fields[name]
        try:
            sections[name] = type(field.default).model_validate(raw.get(name) or {})
        except ValidationError:
            sections[name] = field.default
    return Params.model_construct(**sections)


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
        """This flow run's ledger entry, open since the stage started (failures included)."""
        if self.run is None:
            raise RuntimeError(f"stage {self.name!r}: used outside stage_run")
        yield self.run

    @property
    def cost(self) -> Cost:
        """The priced entry the meter wrote when the stage closed: its own part."""
        if self.run is None:
            raise RuntimeError(f"stage {self.name!r}: its ledger block never ran")
        entry = self.run.entry
        if entry is None:
            return Cost(self.run.key, 0.0, 0.0, 0.0)
        return Cost(entry.key, entry.total_usd, entry.compute_usd, entry.staff_usd)

    @property
    def whole(self) -> Cost:
        """The stage's cost with its subflows' (what its artifact and tags show)."""
        if self.run is None:
            raise RuntimeError(f"stage {self.name!r}: its ledger block never ran")
        up = self.run.rollup
        return Cost(self.run.key, up.total_usd, up.compute_usd, up.staff_usd)

    def notify(self, error: Exception | None) -> None:
        """The notices its end calls for, sent by the outermost stage only (never raises)."""
        if self.run is None or self.run.parent_key is not None:
            return
        run_id = self.run.links.get("prefect_flow_run_id")
        cost = self.whole.total_usd
        after_stage(self.params, self.paths, self.name, self.phase, run_id, cost, error)

    def finish(self) -> None:
        """Tag the run with the model it produced and publish the cost artifact."""
        linked = self.run.links.get("model_version") if self.run is not None else None
        model = self.model_version or linked
        if model:
            tag_run(f"model:v{model}")
        publish_cost(self.name, self.published if self.published is not None else self.whole)


@contextmanager
def stage_run(name: str, phase: str, trigger: str, params_file: str | None) -> Iterator[Stage]:
    """Meter a flow run as a stage from its start; on a clean exit tag its model and publish."""
    tag_run(f"stage:{name}", f"trigger:{trigger}")
    try:
        params, paths = setup(params_file)
        broken: Exception | None = None
    except Exception as err:  # priced and recorded as failed below, then raised
        params, paths, broken = pricing_params(params_file), Paths.from_env(), err
    links: dict[str, str | None] = {"prefect_flow_run_id": run_id()}
    if not is_subflow():
        reap_quietly()
    stage = Stage(name, phase, trigger, params, paths)
    try:
        with (
            pinned_threads(),
            metered("flow", name, phase, trigger, links, params=params, paths=paths) as run,
        ):
            stage.run = run
            if broken is not None:
                raise broken
            yield stage
    except Exception as err:  # the notices (failure, budget passed) name the priced cost
        stage.notify(err)
        raise
    stage.notify(None)
    stage.finish()
