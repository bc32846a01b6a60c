"""Budget against actual, burn rate, an honest 12-month forecast and the retrain's budget guard.

The forecast says which history it learns from and refuses to project a year from less than
`budget.min_history_days`. Machine runs are priced by their own compute per run; human work
(logged hours by activity, staffing charged on runs by flow) is forecast apart, so one long
investigation does not become the cost of every monitor run. Scheduled deployments (a flow
run with trigger `schedule`) give the expected run count of each month from their cron; other
runs come at the rate the window counted. The range is a 90% band: compound Poisson for
counted runs, the per-run spread for scheduled ones.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from lifecycle.ledger.models import utc_naive
from lifecycle.ledger.pricing import LedgerError, check_choice, phases, str_keys
from lifecycle.ledger.schedule import runs_in_month
from lifecycle.ledger.session import get_engine
from lifecycle.ledger.tables import tables

if TYPE_CHECKING:
    from lifecycle.config import Params

DAYS_PER_MONTH = 365.25 / 12
Z90 = 1.645  # low and high bound a 90% range (normal approximation)
SCHEDULED_FLOWS = ("ingest", "monitor")  # the deployments with a cron (orchestration params)


@dataclass(frozen=True)
class FlowRate:
    """How often one flow (or stage, serving, human activity) runs and what a run costs."""

    kind: str
    name: str
    phase: str
    runs: int
    runs_per_month: float
    usd_per_run: float
    usd_per_month: float
    low_usd_per_month: float = 0.0
    high_usd_per_month: float = 0.0
    basis: str = "counted"


@dataclass(frozen=True)
class MonthRange:
    """One forecast month: low, expected and high cost."""

    month: str
    low_usd: float
    expected_usd: float
    high_usd: float


@dataclass(frozen=True)
class PhaseBudget:
    """One phase this month: budget, spent so far, burn, projection and forecast."""

    phase: str
    budget_usd: float | None
    spent_usd: float
    burn_usd_per_day: float
    projected_month_usd: float
    forecast_month_usd: float | None
    alert: bool


@dataclass
class Forecast:
    """What history the forecast uses, its rates, the next 12 months as a range, the budget."""

    as_of: str
    history_days: float
    history_start: str | None = None
    min_history_days: int = 0
    basis: str = ""
    refused: str | None = None
    rates: list[FlowRate] = field(default_factory=list)
    staffing: list[FlowRate] = field(default_factory=list)
    monthly_by_phase: dict[str, float] = field(default_factory=dict)
    months: list[str] = field(default_factory=list)
    monthly: list[MonthRange] = field(default_factory=list)
    twelve_month_usd: float | None = None
    twelve_month_low_usd: float | None = None
    twelve_month_high_usd: float | None = None
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
    forecast_month_usd: float | None


@dataclass
class _Line:
    """One forecast line: runs counted in the window, their cost's sum and sum of squares."""

    kind: str
    name: str
    phase: str
    counted: int = 0
    scheduled: int = 0
    usd: float = 0.0
    usd_sq: float = 0.0
    cron: str | None = None

    @property
    def runs(self) -> int:
        """Every run seen."""
        return self.counted + self.scheduled

    def month(self, year: int, month: int, window_months: float) -> tuple[float, float]:
        """Expected cost and its variance in one month (schedule fixed, the rest Poisson)."""
        mean = self.usd / self.runs
        var = max(self.usd_sq / self.runs - mean * mean, 0.0)
        fixed = runs_in_month(self.cron, year, month) if self.cron else 0
        rate = (self.counted if self.cron else self.runs) / window_months
        return (fixed + rate) * mean, fixed * var + rate * self.usd_sq / self.runs


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


def _schedules(params: Params) -> dict[str, str]:
    """The cron of each scheduled deployment, by flow name."""
    o = params.orchestration
    return dict(zip(SCHEDULED_FLOWS, (o.ingest_cron, o.monitor_cron), strict=True))


def _lines(
    params: Params, url: str | None, start: datetime, end: datetime
) -> tuple[datetime | None, list[_Line], list[_Line]]:
    """The window's first run; machine lines (compute per run) and human work apart, one scan.

    Human work is what `log-hours` recorded (by activity) and the staffing charged on runs (by
    the flow it was charged on: one investigation is a staffing event of the monitor, not a
    share of every monitor run's price).
    """
    from sqlalchemy import case, func, select

    _, t, _ = tables()
    crons = _schedules(params)
    sched = case((t.c.trigger == "schedule", 1), else_=0)
    staffed = case((t.c.staff_usd > 0, 1), else_=0)
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            select(t.c.kind, t.c.name, t.c.phase, sched, func.count(), func.min(t.c.started_at),
                   func.sum(t.c.compute_usd), func.sum(t.c.compute_usd * t.c.compute_usd),
                   func.sum(staffed), func.sum(t.c.staff_usd),
                   func.sum(t.c.staff_usd * t.c.staff_usd))
            # coalesce hides the column from the planner: with most of the table in the
            # window, one sequential scan beats an index range plus a lookup per row
            .where(func.coalesce(t.c.started_at, end).between(start, end), t.c.started_at != end)
            .group_by(t.c.kind, t.c.name, t.c.phase, sched)
        ).all()  # fmt: skip
    first = min((r[5] for r in rows), default=None)
    machine: dict[tuple[str, str, str], _Line] = {}
    people: dict[tuple[str, str], _Line] = {}
    for kind, name, phase, is_sched, n, _first, usd, usd_sq, events, staff, staff_sq in rows:
        if int(events or 0):
            label = str(name) if kind == "human" else f"on {name} runs"
            who = people.setdefault((label, phase), _Line("staff", label, str(phase)))
            who.counted += int(events)
            who.usd += float(staff or 0.0)
            who.usd_sq += float(staff_sq or 0.0)
        if kind == "human":
            continue
        line = machine.setdefault((kind, name, phase), _Line(kind, name, phase))
        cron = crons.get(name) if kind == "flow" and is_sched else None
        if cron:
            line.cron, line.scheduled = cron, line.scheduled + int(n)
        else:
            line.counted += int(n)
        line.usd += float(usd or 0.0)
        line.usd_sq += float(usd_sq or 0.0)
    return first, list(machine.values()), list(people.values())


def _rate(line: _Line, months: list[tuple[int, int]], window_months: float) -> FlowRate:
    """A line's average month over the forecast months, with its 90% range."""
    figures = [line.month(y, m, window_months) for y, m in months]
    mean = sum(e for e, _ in figures) / len(figures)
    sd = math.sqrt(sum(v for _, v in figures) / len(figures))
    per_run = line.usd / line.runs
    basis = (
        f"schedule '{line.cron}'" + (" + counted" if line.counted else "")
        if line.cron
        else ("counted")
    )
    return FlowRate(
        line.kind, line.name, line.phase, line.runs, mean / per_run if per_run else 0.0,
        per_run, mean, max(mean - Z90 * sd, 0.0), mean + Z90 * sd, basis,
    )  # fmt: skip


def measured_rates(
    params: Params, url: str | None = None, now: datetime | None = None
) -> tuple[list[FlowRate], float]:
    """Runs per month and compute per run of each flow over the lookback window (and its days)."""
    fc = forecast(params, url, now)
    return fc.rates, fc.history_days


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


def _project(result: Forecast, machine: list[_Line], people: list[_Line], window: float) -> None:
    """Fill the rates, the 12 months as ranges and the monthly cost per phase."""
    months = [(int(m[:4]), int(m[5:])) for m in result.months]
    window_months = window / DAYS_PER_MONTH
    result.rates = sorted((_rate(x, months, window_months) for x in machine),
                          key=lambda r: -r.usd_per_month)  # fmt: skip
    result.staffing = sorted((_rate(x, months, window_months) for x in people),
                             key=lambda r: -r.usd_per_month)  # fmt: skip
    total_var = 0.0
    for (y, m), label in zip(months, result.months, strict=True):
        figures = [x.month(y, m, window_months) for x in (*machine, *people)]
        expected, var = sum(e for e, _ in figures), sum(v for _, v in figures)
        total_var += var
        sd = math.sqrt(var)
        result.monthly.append(MonthRange(label, max(expected - Z90 * sd, 0.0), expected,
                                         expected + Z90 * sd))  # fmt: skip
    for r in (*result.rates, *result.staffing):
        result.monthly_by_phase[r.phase] = result.monthly_by_phase.get(r.phase, 0.0) + (
            r.usd_per_month
        )
    twelve = sum(x.expected_usd for x in result.monthly)
    result.twelve_month_usd = twelve
    result.twelve_month_low_usd = max(twelve - Z90 * math.sqrt(total_var), 0.0)
    result.twelve_month_high_usd = twelve + Z90 * math.sqrt(total_var)


def forecast(params: Params, url: str | None = None, now: datetime | None = None) -> Forecast:
    """The next 12 months from the runs the history shows, as a range, against the budget."""
    b = params.budget
    moment = _now(now)
    start = moment - timedelta(days=b.lookback_days)
    first, machine, people = _lines(params, url, start, moment)
    window = (moment - first).total_seconds() / 86400 if first else 0.0
    runs = sum(x.runs for x in machine)
    events = sum(x.runs for x in people)
    since = first.isoformat(timespec="minutes") if first else None
    result = Forecast(
        as_of=moment.isoformat(timespec="seconds"), history_days=window, history_start=since,
        min_history_days=b.min_history_days, months=next_months(moment, 12),
        basis=(f"{window:.1f} days of history (since {since}, lookback {b.lookback_days} days): "
               f"{runs:,} runs, {events:,} staffing entries" if first else "no history"),
    )  # fmt: skip
    if window < b.min_history_days:
        result.refused = (
            f"no 12-month forecast: {window:.1f} days of history, and at least "
            f"{b.min_history_days} are needed (budget.min_history_days)"
        )
    else:
        _project(result, machine, people, window)
    budgets: dict[str, float] = str_keys(b.monthly_usd)
    spent = month_to_date(url, moment)
    active = sorted(set(result.monthly_by_phase) | set(spent), key=phases().index)
    if active and all(p in budgets for p in active) and not result.refused:
        result.budget_twelve_month_usd = sum(budgets[p] for p in active) * 12
    _compare(result, budgets, spent, active, b.alert_share, moment)
    return result


def _compare(
    result: Forecast,
    budgets: dict[str, float],
    spent: dict[str, float],
    active: list[str],
    share: float,
    moment: datetime,
) -> None:
    """This month per phase: spent, burn, projection, forecast and the alert."""
    day = (moment - month_start(moment)).total_seconds() / 86400
    days_in_month = calendar.monthrange(moment.year, moment.month)[1]
    for phase in active:
        done = spent.get(phase, 0.0)
        burn = done / max(day, 1.0)
        budget = budgets.get(phase)
        fc = None if result.refused else result.monthly_by_phase.get(phase, 0.0)
        # the forecast decides (a month's first days extrapolate too wildly); money already
        # spent past the line alerts whatever the forecast says
        line = None if budget is None else budget * share
        alert = line is not None and ((fc is not None and fc > line) or done > line)
        result.phases.append(
            PhaseBudget(phase, budget, done, burn, burn * days_in_month, fc, alert)
        )
        if alert:
            said = "no forecast" if fc is None else f"forecast ${fc:,.2f}/month"
            result.alerts.append(
                f"{phase}: {said}, ${done:,.2f} spent this month, against a budget of "
                f"${budget:,.2f}/month (alert above {share:.0%}: ${line or 0.0:,.2f})"
            )


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
    outlook = forecast(params, url, moment)
    fc = None if outlook.refused else outlook.monthly_by_phase.get(phase, 0.0)
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
