"""What to simulate: the command's options checked against params into a plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lifecycle.config import Params

RetrainMode = Literal["event", "inline"]
NO_SCENARIO = "none"


class SimulationError(ValueError):
    """An option or a project state the simulation cannot run with, named with what is wrong."""


@dataclass(frozen=True)
class Plan:
    """What to simulate: how many months, which drift from which month, how retrains run."""

    months: int
    scenario: str | None
    drift_from: int
    retrain: RetrainMode

    def scenario_of(self, month: int) -> str | None:
        """The scenario applied to one month (none before drift_from)."""
        return self.scenario if month >= self.drift_from else None


def make_plan(
    params: Params,
    months: int | None = None,
    scenario: str | None = None,
    drift_from: int | None = None,
    retrain: str = "event",
) -> Plan:
    """Check the options against params: months in range, a known scenario, a known mode."""
    sim = params.simulation
    count = sim.months if months is None else months
    if not 1 <= count <= sim.months:
        raise SimulationError(
            f"--months {count}: must be between 1 and {sim.months} (simulation.months, the "
            "monthly batches ingest writes)"
        )
    name = None if scenario in (None, NO_SCENARIO) else scenario
    if name is not None and name not in sim.scenarios:
        raise SimulationError(
            f"--scenario {scenario!r}: not one of {[NO_SCENARIO, *sorted(sim.scenarios)]} "
            "(simulation.scenarios)"
        )
    start = sim.drift_from_month if drift_from is None else drift_from
    if name is not None and not 1 <= start <= count:
        raise SimulationError(
            f"--drift-from {start}: must be between 1 and --months {count}, or the scenario "
            "never applies"
        )
    if retrain not in ("event", "inline"):
        raise SimulationError(f"--retrain {retrain!r}: must be 'event' or 'inline'")
    mode: RetrainMode = "event" if retrain == "event" else "inline"
    return Plan(count, name, start, mode)
