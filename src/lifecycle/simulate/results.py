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
    # the value ledger (lifecycle.value): the estimate made when the month was served, the
    # realized value once its outcomes arrived (value.outcome_lag_periods later), decay when
    # the realized value fell outside the estimate's interval
    value_status: str = "-"
    estimated_usd: float | None = None
    estimated_low: float | None = None
    estimated_high: float | None = None
    realized_usd: float | None = None
    decay: bool = False

    @property
    def net_usd(self) -> float | None:
        """Realized value (else the estimate) minus the month's cost."""
        value = self.realized_usd if self.realized_usd is not None else self.estimated_usd
        return None if value is None else value - self.cost_usd


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
