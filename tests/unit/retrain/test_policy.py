"""Every branch of the retrain policy, with real drift reports and simple budget guards."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from lifecycle.config import Params
from lifecycle.ingest import apply_scenario
from lifecycle.monitor.check import check_drift
from lifecycle.monitor.results import DriftReport
from lifecycle.retrain import RetrainError, decide_retrain, record_blocked

NOW = datetime(2026, 11, 30, tzinfo=UTC)


@dataclass(frozen=True)
class Answer:
    """A budget guard's answer."""

    allowed: bool
    reason: str


class Guard:
    """A budget guard with a fixed answer that remembers how it was asked."""

    def __init__(self, allowed: bool) -> None:
        self.allowed = allowed
        self.calls: list[dict[str, Any]] = []

    def __call__(self, params: Params, *, phase: str, planned_usd: float) -> Answer:
        self.calls.append({"phase": phase, "planned_usd": planned_usd})
        reason = "fits" if self.allowed else f"${planned_usd:.2f} would pass the {phase} budget"
        return Answer(self.allowed, reason)


@pytest.fixture
def drift_report(params: Params, reference: pd.DataFrame, batch: pd.DataFrame) -> DriftReport:
    scenario = params.simulation.scenarios["price_increase"]
    return check_drift(reference, apply_scenario(batch, scenario, params.data, 3), params, "m1")


@pytest.fixture
def calm_report(params: Params, reference: pd.DataFrame, batch: pd.DataFrame) -> DriftReport:
    return check_drift(reference, batch, params, "m1")


def test_drift_with_labels_and_budget_retrains(params: Params, drift_report: DriftReport) -> None:
    guard = Guard(True)
    decision = decide_retrain(drift_report, 10_000, params, guard)
    assert decision.retrain is True
    assert decision.triggers == ("drift",)
    assert guard.calls == [{"phase": "maintenance", "planned_usd": params.retrain.planned_usd}]
    assert not decision.blocked


def test_no_trigger_no_retrain_and_no_budget_question(
    params: Params, calm_report: DriftReport
) -> None:
    guard = Guard(True)
    decision = decide_retrain(calm_report, 10_000, params, guard, last_trained=NOW, now=NOW)
    assert decision.retrain is False
    assert decision.triggers == ()
    assert "no trigger" in decision.reasons[0]
    assert guard.calls == []


def test_too_few_labels_blocks_with_an_alert(params: Params, drift_report: DriftReport) -> None:
    guard = Guard(True)
    few = params.retrain.min_new_labelled_rows - 1
    decision = decide_retrain(drift_report, few, params, guard)
    assert decision.retrain is False
    assert decision.blocked_by_data is True
    assert decision.alert is not None
    assert f"{few} new labelled rows" in decision.alert
    assert guard.calls == []


def test_budget_refusal_blocks_with_the_guards_reason(
    params: Params, drift_report: DriftReport, caplog: pytest.LogCaptureFixture
) -> None:
    decision = decide_retrain(drift_report, 10_000, params, Guard(False))
    assert decision.retrain is False
    assert decision.blocked_by_budget is True
    assert decision.budget_reason is not None
    assert "maintenance budget" in decision.budget_reason
    assert decision.alert is not None
    assert "blocked by the budget" in decision.alert
    assert any("blocked by the budget" in r.message for r in caplog.records)


def test_schedule_triggers_on_a_calm_window(params: Params, calm_report: DriftReport) -> None:
    old = NOW - timedelta(days=params.retrain.schedule_days + 1)
    decision = decide_retrain(calm_report, 10_000, params, Guard(True), last_trained=old, now=NOW)
    assert decision.retrain is True
    assert decision.triggers == ("schedule",)
    recent = NOW - timedelta(days=params.retrain.schedule_days - 1)
    assert not decide_retrain(
        calm_report, 10_000, params, Guard(True), last_trained=recent, now=NOW
    ).retrain


def test_decay_triggers(params: Params, calm_report: DriftReport) -> None:
    from dataclasses import replace

    from lifecycle.monitor.results import Performance, PerformanceBaseline

    decayed = replace(
        calm_report,
        performance=Performance(500, True, 0.55, reasons=("performance: ROC AUC 0.550 ...",),
                                baseline=PerformanceBaseline(0.84)),
        verdict="decay",
    )  # fmt: skip
    decision = decide_retrain(decayed, 10_000, params, Guard(True))
    assert decision.triggers == ("decay",)
    assert decision.retrain is True


def test_bad_labelled_rows_is_a_clear_error(params: Params, calm_report: DriftReport) -> None:
    with pytest.raises(RetrainError, match="labelled_rows = -1"):
        decide_retrain(calm_report, -1, params, Guard(True))


def test_blocked_decision_becomes_a_ledger_note(
    params: Params, drift_report: DriftReport, tmp_path: Any
) -> None:
    from lifecycle.ledger.queries import iter_entries

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    decision = decide_retrain(drift_report, 10_000, params, Guard(False))
    key = record_blocked(decision, params, url=url)
    entries = [e for e in iter_entries(url=url) if e.key == key]
    assert len(entries) == 1
    assert entries[0].note == decision.alert
    assert entries[0].phase == "maintenance"
    allowed = decide_retrain(drift_report, 10_000, params, Guard(True))
    assert record_blocked(allowed, params, url=url) is None


def test_default_guard_is_the_ledgers(
    params: Params, drift_report: DriftReport, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIFECYCLE_LEDGER_URL", f"sqlite:///{tmp_path / 'ledger.db'}")
    decision = decide_retrain(drift_report, 10_000, params)
    assert decision.retrain is True  # an empty ledger has the whole month's budget left
    assert decision.budget_reason is not None
    assert "fits" in decision.budget_reason
