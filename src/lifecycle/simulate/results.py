"""What a simulation found: one row per month, and the run as a whole."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.simulate.plan import Plan


@dataclass(frozen=True)
class MonthResult:
    """One row of the table: what the month's check found and what the loop did about it."""

    month: int
    scenario: str | None
    rows: int
    served_by: str
    verdict: str
    retrained: bool
    promoted: bool
    champion: str | None
    roc_auc: float | None
    profit: float | None
    cost_usd: float
    seconds: float
    window: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class SimulationResult:
    """Every month of one run, and where it ran."""

    plan: Plan
    start_champion: str
    service_url: str
    api_url: str
    months: tuple[MonthResult, ...]

    @property
    def retrains(self) -> int:
        """Months that retrained."""
        return sum(m.retrained for m in self.months)

    @property
    def promotions(self) -> int:
        """Months whose retrain promoted a new champion."""
        return sum(m.promoted for m in self.months)
