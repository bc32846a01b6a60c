"""Budget and forecast: measured rates, the 12-month range, refusal, burn rate, alert and guard."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lifecycle.config import Params, parse_params
from lifecycle.ledger.models import LedgerEntry

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)  # 14.5 days into a 30-day month
DPM = 365.25 / 12
DS_RATE = 85.0
REVIEW_HOURS = 1.5
RETRAIN_USD = 2.0 + REVIEW_HOURS * DS_RATE  # 2 core-hours and one review
ANNOTATOR_RATE = 30.0


def _params(base: Params, **budget: Any) -> Params:
    """Round prices ($1 per requested core-hour, free RAM) and the given budget settings."""
    raw = base.model_dump(mode="json")
    raw["prices"].update(cpu_core_hour=1.0, ram_gb_hour=0.0, gpu_hour=0.0, storage_gb_month=0.0)
    raw["resources"] = {"default": {"cpu_cores": 1.0, "memory_gb": 0.0}, "overrides": {}}
    raw["staffing"]["roles"].update(data_scientist=DS_RATE, annotator=ANNOTATOR_RATE)
    raw["staffing"]["activities"]["retrain_review"] = {
        "role": "data_scientist",
        "hours": REVIEW_HOURS,
    }
    raw["budget"] = {
        "monthly_usd": {},
        "alert_share": 1.0,
        "lookback_days": 90,
        "min_history_days": 28,
        **budget,
    }
    return parse_params(raw)


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite ledger; pooled connections closed afterwards."""
    from lifecycle.ledger.session import dispose_engines

    yield f"sqlite:///{tmp_path / 'ledger.db'}"
    dispose_engines()


def _flow(
    params: Params,
    url: str,
    key: str,
    name: str,
    phase: str,
    start: datetime,
    hours: float,
    trigger: str = "manual",
    activity: str | None = None,
) -> LedgerEntry:
    """Store one finished flow run of a controlled start, wall time and trigger."""
    from lifecycle.ledger.meter import MeteredRun, build_entry
    from lifecycle.ledger.pricing import Usage
    from lifecycle.ledger.queries import write_entry

    run = MeteredRun(key, "flow", name, phase, trigger, params)
    if name == "retrain":
        run.charge("retrain_review")
    if activity:
        run.charge(activity)
    wall = hours * 3600
    usage = Usage(wall_seconds=wall, cpu_seconds=wall / 4, peak_memory_bytes=0)
    entry = build_entry(
        run, status="succeeded", started_at=start, ended_at=start + timedelta(seconds=wall),
        usage=usage,
    )  # fmt: skip
    return write_entry(entry, url)


def _seed(params: Params, url: str) -> None:
    """30 days before NOW: a daily 1 h monitor, 3 retrains, 6 h serving a day, weekly labelling.

    The first entry is exactly 30 days before NOW, so the measured window is 30 days; one run
    older than the 90-day lookback and one after NOW must not count.
    """
    from lifecycle.ledger.record import log_hours, record_serving_period

    for k in range(1, 31):
        _flow(params, url, f"monitor-{k}", "monitor", "maintenance", NOW - timedelta(days=k), 1.0)
        start = NOW - timedelta(days=k)
        record_serving_period(
            start, start + timedelta(hours=6), 100, run_key=f"serve-{k}", params=params, url=url
        )
    for k in (10, 20, 30):
        _flow(params, url, f"retrain-{k}", "retrain", "maintenance", NOW - timedelta(days=k), 2.0)
    for k in (3, 10, 17, 24):
        day = NOW - timedelta(days=k)
        log_hours("annotator", 2.0, phase="maintenance", activity="labelling", day=day,
                  run_key=f"label-{k}", params=params, url=url)  # fmt: skip
    _flow(params, url, "ancient", "monitor", "maintenance", NOW - timedelta(days=120), 50.0)
    _flow(params, url, "future", "monitor", "maintenance", NOW + timedelta(days=1), 50.0)


# by hand, per 30 days: monitor 30 x $1, retrain 3 x RETRAIN_USD, labelling 4 x 2 h x $30,
# and serving (deployment) 30 x 6 h x $1
MAINT_PER_30_DAYS = 30 * 1.0 + 3 * RETRAIN_USD + 4 * 2 * ANNOTATOR_RATE
DEPLOY_PER_30_DAYS = 30 * 6.0
MAINT_MONTHLY = MAINT_PER_30_DAYS / 30 * DPM
DEPLOY_MONTHLY = DEPLOY_PER_30_DAYS / 30 * DPM
# June so far (June 1 00:00 to NOW): monitors and serving of k = 1..14, the retrain of k = 10,
# labelling of k = 3 and 10
MAINT_SPENT_JUNE = 14 * 1.0 + RETRAIN_USD + 2 * 2 * ANNOTATOR_RATE
DEPLOY_SPENT_JUNE = 14 * 6.0


def test_rates_are_measured_per_flow_over_the_window(params: Params, url: str) -> None:
    """Runs per month and compute per run of each flow; human work apart, per activity."""
    from lifecycle.ledger.forecast import forecast

    p = _params(params)
    _seed(p, url)
    fc = forecast(p, url, NOW)
    assert fc.history_days == pytest.approx(30.0)
    assert "30.0 days of history" in fc.basis and "2024-05-16" in fc.basis
    by_name = {r.name: r for r in fc.rates}
    assert set(by_name) == {"monitor", "retrain", "api"}
    assert by_name["monitor"].runs == 30
    assert by_name["monitor"].runs_per_month == pytest.approx(DPM)
    assert by_name["monitor"].usd_per_run == pytest.approx(1.0)
    assert by_name["retrain"].runs_per_month == pytest.approx(3 / 30 * DPM)
    assert by_name["retrain"].usd_per_run == pytest.approx(2.0)  # compute only: review apart
    assert by_name["api"].usd_per_month == pytest.approx(DEPLOY_MONTHLY)
    staff = {r.name: r for r in fc.staffing}
    assert set(staff) == {"on retrain runs", "labelling"}
    assert staff["labelling"].usd_per_month == pytest.approx(4 * 60.0 / 30 * DPM)
    assert staff["on retrain runs"].usd_per_run == pytest.approx(REVIEW_HOURS * DS_RATE)
    assert [r.usd_per_month for r in fc.rates] == sorted(
        (r.usd_per_month for r in fc.rates), reverse=True
    )


def test_twelve_month_forecast_equals_the_hand_computed_figure(params: Params, url: str) -> None:
    """Monthly cost per phase from measured rates, times twelve, staffing included."""
    from lifecycle.ledger.forecast import forecast

    p = _params(params)
    _seed(p, url)
    fc = forecast(p, url, NOW)
    assert fc.monthly_by_phase == pytest.approx(
        {"maintenance": MAINT_MONTHLY, "deployment": DEPLOY_MONTHLY}
    )
    assert fc.twelve_month_usd == pytest.approx(12 * (MAINT_MONTHLY + DEPLOY_MONTHLY))
    assert fc.months[0] == "2024-07" and fc.months[-1] == "2025-06" and len(fc.months) == 12


def test_a_young_ledger_gets_no_twelve_month_forecast(params: Params, url: str) -> None:
    """Less history than budget.min_history_days: no rates, no year, and it says why."""
    from lifecycle.ledger.forecast import forecast

    p = _params(params, monthly_usd={"maintenance": 1.0}, min_history_days=28)
    for k in (1, 2):
        _flow(p, url, f"m{k}", "monitor", "maintenance", NOW - timedelta(days=k), 3.0)
    fc = forecast(p, url, NOW)
    assert fc.history_days == pytest.approx(2.0)
    assert fc.twelve_month_usd is None and fc.rates == [] and fc.monthly == []
    assert fc.refused is not None
    assert "2.0 days of history" in fc.refused and "28" in fc.refused
    assert "budget.min_history_days" in fc.refused
    assert fc.phases[0].forecast_month_usd is None
    assert fc.alerts and fc.alerts[0].startswith("maintenance: no forecast, $6.00 spent")
    enough = forecast(_params(params, min_history_days=2), url, NOW)
    assert enough.refused is None
    assert enough.twelve_month_usd == pytest.approx(6.0 / 2 * DPM * 12)


def test_min_history_may_not_exceed_the_lookback(params: Params) -> None:
    """A forecast that could never have enough history is a params error naming both keys."""
    from lifecycle.config import ConfigError

    with pytest.raises((ConfigError, ValueError), match=r"budget\.min_history_days = 100"):
        _params(params, min_history_days=100, lookback_days=90)


def test_one_long_investigation_is_human_work_not_a_monitor_price(params: Params, url: str) -> None:
    """30 $1 monitors and one 3 h investigation: the monitor costs $1 a run, the hours apart."""
    from lifecycle.ledger.forecast import forecast

    raw = _params(params).model_dump(mode="json")
    raw["staffing"]["activities"]["drift_investigation"] = {"role": "data_scientist", "hours": 3.0}
    p = parse_params(raw)
    for k in range(1, 31):
        extra = "drift_investigation" if k == 5 else None
        _flow(p, url, f"m{k}", "monitor", "maintenance", NOW - timedelta(days=k), 1.0,
              activity=extra)  # fmt: skip
    fc = forecast(p, url, NOW)
    (monitor,) = fc.rates
    assert monitor.usd_per_run == pytest.approx(1.0)
    (investigation,) = fc.staffing
    assert investigation.name == "on monitor runs" and investigation.runs == 1
    assert investigation.usd_per_month == pytest.approx(3 * DS_RATE / 30 * DPM)
    assert investigation.low_usd_per_month == 0.0  # one event may well not recur
    assert investigation.high_usd_per_month > 2 * investigation.usd_per_month


def test_a_scheduled_flow_counts_its_cron_and_the_range_brackets_it(
    params: Params, url: str
) -> None:
    """Monitor runs triggered by its daily schedule: each month has its calendar's run count."""
    from lifecycle.ledger.forecast import forecast

    raw = _params(params).model_dump(mode="json")
    raw["orchestration"]["monitor_cron"] = "0 7 * * *"
    p = parse_params(raw)
    for k in range(1, 41):  # 40 daily $1 runs plus 2 manual $3 runs
        _flow(p, url, f"s{k}", "monitor", "maintenance", NOW - timedelta(days=k), 1.0,
              trigger="schedule")  # fmt: skip
    for k in (3, 9):
        _flow(p, url, f"h{k}", "monitor", "maintenance", NOW - timedelta(days=k), 3.0)
    fc = forecast(p, url, NOW)
    (monitor,) = fc.rates
    assert monitor.basis == "schedule '0 7 * * *' + counted"
    mean = 46.0 / 42
    july, february = fc.monthly[0], fc.monthly[7]
    assert (july.month, february.month) == ("2024-07", "2025-02")
    assert july.expected_usd == pytest.approx((31 + 2 / 40 * DPM) * mean)
    assert february.expected_usd == pytest.approx((28 + 2 / 40 * DPM) * mean)
    for m in fc.monthly:
        assert m.low_usd < m.expected_usd < m.high_usd
    assert fc.twelve_month_low_usd is not None and fc.twelve_month_high_usd is not None
    assert fc.twelve_month_low_usd < fc.twelve_month_usd < fc.twelve_month_high_usd  # type: ignore[operator]


def test_burn_rate_and_projection_come_from_this_months_spend(params: Params, url: str) -> None:
    """Spent since the 1st, per day elapsed, and that pace over the whole month."""
    from lifecycle.ledger.forecast import forecast

    p = _params(params, monthly_usd={"maintenance": 10_000.0, "deployment": 10_000.0})
    _seed(p, url)
    phases = {b.phase: b for b in forecast(p, url, NOW).phases}
    maint = phases["maintenance"]
    assert maint.spent_usd == pytest.approx(MAINT_SPENT_JUNE)
    assert maint.burn_usd_per_day == pytest.approx(MAINT_SPENT_JUNE / 14.5)
    assert maint.projected_month_usd == pytest.approx(MAINT_SPENT_JUNE / 14.5 * 30)
    assert maint.forecast_month_usd == pytest.approx(MAINT_MONTHLY)
    assert phases["deployment"].spent_usd == pytest.approx(DEPLOY_SPENT_JUNE)
    assert not maint.alert


@pytest.mark.parametrize(("share", "margin"), [(1.0, 0.01), (0.8, 0.01), (0.5, 1.0)])
def test_alert_fires_exactly_when_the_forecast_passes_the_share_of_budget(
    params: Params, url: str, share: float, margin: float
) -> None:
    """Just above alert_share x budget: alert for that phase only; just below: none."""
    from lifecycle.ledger.forecast import forecast

    p = _params(params)
    _seed(p, url)
    below_line = (MAINT_MONTHLY + margin) / share  # the forecast sits just under the line
    above_line = (MAINT_MONTHLY - margin) / share  # the forecast passes the line
    quiet = _params(params, alert_share=share,
                    monthly_usd={"maintenance": below_line, "deployment": 1e6})  # fmt: skip
    loud = _params(params, alert_share=share,
                   monthly_usd={"maintenance": above_line, "deployment": 1e6})  # fmt: skip
    assert above_line * share > MAINT_SPENT_JUNE  # the month's spend alone would not alert
    calm = forecast(quiet, url, NOW)
    assert calm.alerts == []
    assert not any(b.alert for b in calm.phases)
    fired = forecast(loud, url, NOW)
    assert [b.phase for b in fired.phases if b.alert] == ["maintenance"]
    assert len(fired.alerts) == 1
    assert fired.alerts[0].startswith("maintenance:")
    assert f"${MAINT_MONTHLY:,.2f}/month" in fired.alerts[0]


def test_spend_already_past_the_budget_alerts(params: Params, url: str) -> None:
    """Money spent this month beyond the line alerts even when the forecast is under it."""
    from lifecycle.ledger.forecast import forecast
    from lifecycle.ledger.record import log_hours

    p = _params(params, monthly_usd={"maintenance": 3000.0})
    # 100 h of labelling ($3,000) on March 20th and June 1st: the 87-day rate is about $2,100 a
    # month, but June's $3,000 already reaches the budget... and one more hour passes it
    for day in (datetime(2024, 3, 20, tzinfo=UTC), datetime(2024, 6, 1, 1, tzinfo=UTC)):
        log_hours("annotator", 100.0, phase="maintenance", day=day, params=p, url=url)
    assert forecast(p, url, NOW).alerts == []
    log_hours("annotator", 1.0, phase="maintenance", day=NOW - timedelta(hours=1), params=p,
              url=url)  # fmt: skip
    fc = forecast(p, url, NOW)
    assert fc.phases[0].forecast_month_usd < 3000.0
    assert [b.phase for b in fc.phases if b.alert] == ["maintenance"]


def test_one_costly_run_on_the_first_morning_does_not_alert(params: Params, url: str) -> None:
    """The month's first hours extrapolate one run to a month; the measured forecast decides."""
    from lifecycle.ledger.forecast import forecast

    p = _params(params, monthly_usd={"maintenance": 400.0})
    now = datetime(2024, 6, 1, 6, 0, tzinfo=UTC)
    for k in range(1, 61):
        _flow(p, url, f"m{k}", "monitor", "maintenance", now - timedelta(days=k), 10.0)
    _flow(p, url, "big", "monitor", "maintenance", now - timedelta(hours=5), 50.0)
    fc = forecast(p, url, now)
    maint = fc.phases[0]
    assert maint.projected_month_usd == pytest.approx(50.0 * 30)  # one day's pace, over 30 days
    assert maint.forecast_month_usd == pytest.approx((60 * 10.0 + 50.0) / 60 * DPM)
    assert fc.alerts == [] and not maint.alert


def test_budget_for_twelve_months_covers_the_active_phases(params: Params, url: str) -> None:
    """The 12-month budget sums the budgets of the phases that spend; unknown when one lacks one."""
    from lifecycle.ledger.forecast import forecast

    _seed(_params(params), url)
    both = _params(
        params, monthly_usd={"maintenance": 1000.0, "deployment": 500.0, "exploration": 9.0}
    )
    assert forecast(both, url, NOW).budget_twelve_month_usd == pytest.approx(12 * 1500.0)
    partial = _params(params, monthly_usd={"maintenance": 1000.0})
    assert forecast(partial, url, NOW).budget_twelve_month_usd is None


def test_an_empty_ledger_forecasts_nothing(params: Params, url: str) -> None:
    """No history: no rates, no forecast (said so) and no alert."""
    from lifecycle.ledger.forecast import forecast

    fc = forecast(_params(params, monthly_usd={"maintenance": 0.0}), url, NOW)
    assert fc.rates == [] and fc.twelve_month_usd is None and fc.alerts == []
    assert fc.basis == "no history" and fc.refused is not None


def test_guard_allows_a_spend_that_fits_the_remaining_budget(params: Params, url: str) -> None:
    """Planned spend within budget minus this month's spend goes ahead, with the figures."""
    from lifecycle.ledger.forecast import budget_guard

    p = _params(params, monthly_usd={"maintenance": 500.0})
    _seed(p, url)
    remaining = 500.0 - MAINT_SPENT_JUNE
    verdict = budget_guard(p, "maintenance", remaining - 0.01, url=url, now=NOW)
    assert verdict.allowed
    assert verdict.spent_usd == pytest.approx(MAINT_SPENT_JUNE)
    assert verdict.remaining_usd == pytest.approx(remaining)
    assert verdict.forecast_month_usd == pytest.approx(MAINT_MONTHLY)
    assert f"${MAINT_SPENT_JUNE:,.2f} of $500.00" in verdict.reason


def test_guard_refuses_a_spend_past_the_budget_naming_the_figures(params: Params, url: str) -> None:
    """A spend that does not fit is refused; the reason names planned, spent, budget and left."""
    from lifecycle.ledger.forecast import budget_guard

    p = _params(params, monthly_usd={"maintenance": 500.0})
    _seed(p, url)
    remaining = 500.0 - MAINT_SPENT_JUNE
    planned = remaining + 0.01
    verdict = budget_guard(p, "maintenance", planned, url=url, now=NOW)
    assert not verdict.allowed
    for figure in (planned, MAINT_SPENT_JUNE, 500.0, remaining):
        assert f"${figure:,.2f}" in verdict.reason
    assert "maintenance" in verdict.reason


def test_guard_refuses_when_the_budget_is_already_gone(params: Params, url: str) -> None:
    """Overspent: even a free run is refused, and nothing is shown as left."""
    from lifecycle.ledger.forecast import budget_guard

    p = _params(params, monthly_usd={"maintenance": 100.0})
    _seed(p, url)
    verdict = budget_guard(p, "maintenance", 0.0, url=url, now=NOW)
    assert not verdict.allowed
    assert "$0.00 left" in verdict.reason


def test_guard_counts_only_this_month_and_this_phase(params: Params, url: str) -> None:
    """Last month's spend and other phases' spend leave this phase's budget untouched."""
    from lifecycle.ledger.forecast import budget_guard
    from lifecycle.ledger.record import log_hours

    p = _params(params, monthly_usd={"maintenance": 100.0, "development": 100.0})
    log_hours("annotator", 10.0, phase="maintenance", day=datetime(2024, 5, 31, tzinfo=UTC),
              params=p, url=url)  # fmt: skip
    log_hours("annotator", 10.0, phase="development", day=NOW - timedelta(hours=1), params=p,
              url=url)  # fmt: skip
    assert budget_guard(p, "maintenance", 100.0, url=url, now=NOW).allowed
    assert not budget_guard(p, "development", 100.0, url=url, now=NOW).allowed


def test_guard_allows_a_phase_without_a_budget(params: Params, url: str) -> None:
    """No budget set for the phase: allowed, and the reason says so."""
    from lifecycle.ledger.forecast import budget_guard

    verdict = budget_guard(_params(params), "exploration", 1e9, url=url, now=NOW)
    assert verdict.allowed and verdict.budget_usd is None
    assert "no budget" in verdict.reason


@pytest.mark.parametrize(
    ("phase", "planned", "message"),
    [("holidays", 1.0, "phase = 'holidays'"), ("maintenance", -1.0, "planned_usd = -1.0"),
     ("maintenance", float("nan"), "planned_usd = nan")],
)  # fmt: skip
def test_guard_refuses_bad_input(
    params: Params, url: str, phase: str, planned: float, message: str
) -> None:
    """An unknown phase or a negative or missing amount is an error, not an answer."""
    from lifecycle.ledger.forecast import budget_guard
    from lifecycle.ledger.pricing import LedgerError

    with pytest.raises(LedgerError, match=message):
        budget_guard(_params(params), phase, planned, url=url, now=NOW)


def test_budget_command_says_plainly_why_there_is_no_forecast(tmp_path: Path) -> None:
    """A day of history: the command names the history and the missing days, and no figure."""
    from typer.testing import CliRunner

    from lifecycle.commands.ledger import ledger_app
    from lifecycle.config import load_params
    from lifecycle.ledger.record import log_hours

    repo_params = Path(__file__).resolve().parents[3] / "params.yaml"
    url = f"sqlite:///{tmp_path / 'young.db'}"
    log_hours("annotator", 2.0, phase="maintenance", day=datetime.now(UTC) - timedelta(days=1),
              params=load_params(repo_params), url=url)  # fmt: skip
    args = ["budget", "--url", url, "--params", str(repo_params)]
    result = CliRunner().invoke(ledger_app, args, terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "1.0 days of history" in result.stdout
    assert "no 12-month forecast" in result.stdout and "budget.min_history_days" in result.stdout
    assert "12-month forecast: $" not in result.stdout
