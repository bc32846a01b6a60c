"""Budget against actual, burn rate, a 12-month forecast and the guard the retrain policy asks."""

from __future__ import annotations

import calendar
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lifecycle.ledger.models import utc_naive
from lifecycle.ledger.pricing import LedgerError, check_choice, phases, str_keys
from lifecycle.ledger.session import get_engine
from lifecycle.ledger.tables import tables

if TYPE_CHECKING:
    from lifecycle.config import Params

DAYS_PER_MONTH = 365.25 / 12
MIN_WINDOW_DAYS = 7.0


@dataclass(frozen=True)
class FlowRate:
    """How often one flow (or stage, serving, human work) ran and what a run cost."""

    kind: str
    name: str
    phase: str
    runs: int
    runs_per_month: float
    usd_per_run: float
    usd_per_month: float


@dataclass(frozen=True)
class PhaseBudget:
    """One phase this month: budget, spent so far, burn, projection and forecast."""

    phase: str
    budget_usd: float | None
    spent_usd: float
    burn_usd_per_day: float
    projected_month_usd: float
    forecast_month_usd: float
    alert: bool


@dataclass
class Forecast:
    """The measured rates, the next 12 months by phase, and the budget comparison."""

    as_of: str
    window_days: float
    rates: list[FlowRate] = field(default_factory=list)
    monthly_by_phase: dict[str, float] = field(default_factory=dict)
    months: list[str] = field(default_factory=list)
    twelve_month_usd: float = 0.0
    budget_twelve_month_usd: float | None = None
    phases: list[PhaseBudget] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class BudgetVerdict:
    """The guard's answer: may this spend go ahead, why, and the figures behind it."""

    allowed: bool
    reason: str
    phase: str
    planned_usd: float
    budget_usd: float | None
    spent_usd: float
    remaining_usd: float | None
    forecast_month_usd: float


def _now(now: datetime | None) -> datetime:
    """Naive UTC now (the ledger stores naive UTC)."""
    return utc_naive(now or datetime.now(UTC))


def month_start(moment: datetime) -> datetime:
    """Midnight of the first day of the moment's month."""
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_months(moment: datetime, n: int) -> list[str]:
    """The n months after the moment's month, as YYYY-MM."""
    out, year, month = [], moment.year, moment.month
    for _ in range(n):
        month += 1
        if month > 12:
            year, month = year + 1, 1
        out.append(f"{year:04d}-{month:02d}")
    return out


def measured_rates(
    params: Params, url: str | None = None, now: datetime | None = None
) -> tuple[list[FlowRate], float]:
    """Runs per month and cost per run of each flow over the lookback window."""
    from sqlalchemy import func, select

    _, t, _ = tables()
    end = _now(now)
    start = end - timedelta(days=params.budget.lookback_days)
    with get_engine(url).connect() as conn:
        first = conn.execute(
            select(func.min(t.c.started_at)).where(t.c.started_at >= start, t.c.started_at < end)
        ).scalar_one()
        rows = conn.execute(
            select(t.c.kind, t.c.name, t.c.phase, func.count(), func.sum(t.c.total_usd))
            .where(t.c.started_at >= start, t.c.started_at < end)
            .group_by(t.c.kind, t.c.name, t.c.phase)
        ).all()
    if first is None:
        return [], 0.0
    # a young ledger has less history than the window: learn from what it has (at least a week)
    window_days = max((end - max(start, first)).total_seconds() / 86400, MIN_WINDOW_DAYS)
    rates = []
    for kind, name, phase, n, usd in rows:
        per_month = n / window_days * DAYS_PER_MONTH
        per_run = float(usd) / n
        rates.append(FlowRate(kind, name, phase, int(n), per_month, per_run, per_run * per_month))
    rates.sort(key=lambda r: -r.usd_per_month)
    return rates, window_days


def month_to_date(url: str | None, now: datetime) -> dict[str, float]:
    """Spend per phase since the first of the current month."""
    from sqlalchemy import func, select

    _, t, _ = tables()
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            select(t.c.phase, func.sum(t.c.total_usd))
            .where(t.c.started_at >= month_start(now), t.c.started_at < now + timedelta(seconds=1))
            .group_by(t.c.phase)
        ).all()
    return {p: float(v) for p, v in rows}


def forecast(params: Params, url: str | None = None, now: datetime | None = None) -> Forecast:
    """Project the next 12 months from measured rates and compare with the budget."""
    moment = _now(now)
    rates, window = measured_rates(params, url, moment)
    monthly: dict[str, float] = {}
    for r in rates:
        monthly[r.phase] = monthly.get(r.phase, 0.0) + r.usd_per_month
    spent = month_to_date(url, moment)
    day = (moment - month_start(moment)).total_seconds() / 86400
    days_in_month = calendar.monthrange(moment.year, moment.month)[1]
    budgets: dict[str, float] = str_keys(params.budget.monthly_usd)
    share = params.budget.alert_share
    result = Forecast(
        as_of=moment.isoformat(timespec="seconds"),
        window_days=window,
        rates=rates,
        monthly_by_phase=monthly,
        months=next_months(moment, 12),
        twelve_month_usd=sum(monthly.values()) * 12,
    )
    active = sorted(set(monthly) | set(spent), key=phases().index)
    if active and all(p in budgets for p in active):
        result.budget_twelve_month_usd = sum(budgets[p] for p in active) * 12
    for phase in active:
        burn = spent.get(phase, 0.0) / max(day, 1.0)
        budget = budgets.get(phase)
        fc = monthly.get(phase, 0.0)
        projected = burn * days_in_month
        done = spent.get(phase, 0.0)
        # the measured-rate forecast decides (a month's first days extrapolate too wildly);
        # money already spent past the line alerts whatever the forecast says
        alert = budget is not None and (fc > budget * share or done > budget * share)
        result.phases.append(PhaseBudget(phase, budget, done, burn, projected, fc, alert))
        if alert:
            result.alerts.append(
                f"{phase}: forecast ${fc:,.2f}/month, ${done:,.2f} spent this month, "
                f"against a budget of ${budget:,.2f}/month (alert above {share:.0%}: "
                f"${(budget or 0.0) * share:,.2f})"
            )
    return result


def budget_guard(
    params: Params,
    phase: str,
    planned_usd: float,
    *,
    url: str | None = None,
    now: datetime | None = None,
) -> BudgetVerdict:
    """May a planned spend go ahead within this month's budget of its phase."""
    check_choice("phase", phase, phases())
    if not planned_usd >= 0:
        raise LedgerError(f"planned_usd = {planned_usd!r}: must be a number >= 0")
    moment = _now(now)
    spent = month_to_date(url, moment).get(phase, 0.0)
    rates, _ = measured_rates(params, url, moment)
    fc = sum(r.usd_per_month for r in rates if r.phase == phase)
    budgets: dict[str, float] = str_keys(params.budget.monthly_usd)
    budget = budgets.get(phase)
    if budget is None:
        return BudgetVerdict(
            True, f"no budget set for phase {phase}", phase, planned_usd, None, spent, None, fc
        )
    remaining = budget - spent
    if planned_usd <= remaining:
        reason = (
            f"${planned_usd:,.2f} fits: ${spent:,.2f} of ${budget:,.2f} spent in {phase} "
            f"this month, ${remaining:,.2f} left"
        )
        return BudgetVerdict(True, reason, phase, planned_usd, budget, spent, remaining, fc)
    reason = (
        f"${planned_usd:,.2f} would pass the {phase} budget: ${spent:,.2f} of "
        f"${budget:,.2f} already spent this month, ${max(remaining, 0):,.2f} left"
    )
    return BudgetVerdict(False, reason, phase, planned_usd, budget, spent, remaining, fc)
