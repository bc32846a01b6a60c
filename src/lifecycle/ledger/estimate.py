"""A one-year estimate of the project by phase, from params, set beside the ledger's actuals."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.ledger.pricing import LedgerError, phases, str_keys
from lifecycle.ledger.report import console

if TYPE_CHECKING:
    from lifecycle.config import Params

RETRAIN_ACTIVITIES = ("retrain_review", "drift_investigation")


@dataclass(frozen=True)
class EstimateRow:
    """One phase of the plan: what each part is expected to cost, and what it did cost."""

    phase: str
    months: float
    staff_usd: float
    cloud_usd: float
    data_usd: float
    retrain_usd: float
    total_usd: float
    actual_usd: float | None = None

    @property
    def actual_share(self) -> float | None:
        """Actual as a share of the estimate (None when either is missing or zero)."""
        if self.actual_usd is None or self.total_usd <= 0:
            return None
        return self.actual_usd / self.total_usd

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, with the share."""
        return {**asdict(self), "actual_share": self.actual_share}


def retrain_unit_usd(params: Params) -> float:
    """What one retrain is expected to cost: its compute plus the reviews it calls for."""
    staffing = params.staffing
    staff = sum(
        staffing.activities[a].hours * staffing.roles[staffing.activities[a].role]
        for a in RETRAIN_ACTIVITIES
        if a in staffing.activities
    )
    return params.estimate.retrain_compute_usd + staff


def estimate(params: Params, actuals: dict[str, float] | None = None) -> list[EstimateRow]:
    """Cost by phase for one year from params (team, months, data, cloud, retrains)."""
    est = params.estimate
    rates = params.staffing.roles
    for team_phase, team in est.team.items():
        for role in team:
            if role not in rates:
                raise LedgerError(
                    f"estimate.team.{team_phase}.{role}: unknown role, not one of staffing.roles "
                    f"{sorted(rates)}"
                )
    plan: dict[str, float] = str_keys(est.months)
    teams: dict[str, dict[str, float]] = str_keys(est.team)
    cloud_rates: dict[str, float] = str_keys(est.cloud_usd_per_month)
    active = [p for p in phases() if plan.get(p, 0.0) > 0]
    first: str = active[0] if active else "exploration"
    rows = []
    for phase in phases():
        months = plan.get(phase, 0.0)
        staff = sum(
            fte * rates[role] * est.hours_per_month * months
            for role, fte in teams.get(phase, {}).items()
        )
        cloud = cloud_rates.get(phase, 0.0) * months
        data = est.labelling_usd_per_month * months
        if phase == first:
            data += est.data_acquisition_usd
        retrain = 0.0
        if phase == "maintenance":
            retrain = est.retrains_per_year * months / 12 * retrain_unit_usd(params)
        total = staff + cloud + data + retrain
        actual = None if actuals is None else actuals.get(phase, 0.0)
        rows.append(EstimateRow(phase, months, staff, cloud, data, retrain, total, actual))
    return rows


def render(rows: list[EstimateRow]) -> None:
    """Print the estimate beside the actuals."""
    from rich.table import Table

    table = Table(title="One-year estimate by phase (USD) beside the ledger's actuals")
    for col in ("phase", "months", "staff", "cloud", "data", "retrains", "estimate", "actual", "%"):
        table.add_column(col, justify="left" if col == "phase" else "right")
    for r in [*rows, _total(rows)]:
        share = r.actual_share
        table.add_row(
            r.phase,
            f"{r.months:g}",
            f"{r.staff_usd:,.0f}",
            f"{r.cloud_usd:,.0f}",
            f"{r.data_usd:,.0f}",
            f"{r.retrain_usd:,.0f}",
            f"{r.total_usd:,.0f}",
            "" if r.actual_usd is None else f"{r.actual_usd:,.2f}",
            "" if share is None else f"{share:.1%}",
        )
    console().print(table)


def _total(rows: list[EstimateRow]) -> EstimateRow:
    """The sum of every phase."""
    has_actual = any(r.actual_usd is not None for r in rows)
    return EstimateRow(
        "total",
        sum(r.months for r in rows),
        sum(r.staff_usd for r in rows),
        sum(r.cloud_usd for r in rows),
        sum(r.data_usd for r in rows),
        sum(r.retrain_usd for r in rows),
        sum(r.total_usd for r in rows),
        sum(r.actual_usd or 0.0 for r in rows) if has_actual else None,
    )
