"""Flow results read as a short summary for people and as complete JSON for machines."""

from __future__ import annotations

import json

from lifecycle.orchestration.results import (
    Cost,
    FitOutcome,
    IngestFlowResult,
    LifecycleResult,
    MonitorFlowResult,
    RetrainFlowResult,
    TrainFlowResult,
    to_json,
)
from lifecycle.train import CandidateResult

DATA = "0123456789abcdef0123456789abcdef"


def _cost(key: str, compute: float, staff: float) -> Cost:
    return Cost(key, compute + staff, compute, staff)


def _candidate(name: str, score: float) -> CandidateResult:
    return CandidateResult(
        name, "logistic_regression", f"run-{name}", "models:/m", score, {}, {}, 1.5
    )


def _train(promoted: bool = True, reused: bool = False) -> TrainFlowResult:
    fits = tuple(
        FitOutcome(_candidate(name, score), "tcp://127.0.0.1:40001", 123)
        for name, score in (("logreg", 1200.0), ("hist_gb", 1500.5))
    )
    return TrainFlowResult(
        model_name="telco-churn", challenger_version="2", reused=reused, promoted=promoted,
        reason="profit gain 310.2 USD, lower bound 12.0 > margin 0.0",
        champion_version="2" if promoted else "1", data_version=DATA,
        fits=() if reused else fits, dvc_stages=("train", "evaluate"),
        cost=_cost("train-key", 0.0123, 75.0),
    )  # fmt: skip


def _monitor(retrain: bool) -> MonitorFlowResult:
    return MonitorFlowResult(
        window="month_01", verdict="drift", drift=True, reasons=("tenure: PSI 0.31 > 0.2",),
        labelled_rows=500, retrain=retrain, retrain_reasons=("drift",) if retrain else (),
        report="reports/drift/month_01.json", event_emitted=False, model_version="1",
        cost=_cost("monitor-key", 0.001, 0.0),
    )  # fmt: skip


def test_train_summary_names_champion_challenger_decision_data_and_cost() -> None:
    text = _train().summary()
    assert "champion:   telco-churn v2" in text
    assert "challenger: v2, newly trained" in text
    assert "PROMOTED: profit gain 310.2 USD" in text
    assert "best hist_gb" in text and "logreg" in text
    assert DATA[:12] in text and DATA not in text
    assert "$75.0123 (compute $0.0123, staff $75.00)" in text
    assert "TrainFlowResult" not in text


def test_train_summary_of_a_reuse_says_so_and_lists_no_candidates() -> None:
    text = _train(promoted=False, reused=True).summary()
    assert "reused (same data and params)" in text
    assert "not promoted" in text and "champion:   telco-churn v1" in text
    assert "candidates" not in text


def test_lifecycle_summary_has_every_step_and_the_total_cost() -> None:
    ingest = IngestFlowResult(7043, 3874, 6, 3874, 2905, 969, DATA, ("ingest",),
                              _cost("ingest-key", 0.002, 0.0))  # fmt: skip
    again = RetrainFlowResult("month_01", ("drift",), _train(promoted=False, reused=True),
                              _cost("retrain-key", 0.001, 50.0))  # fmt: skip
    result = LifecycleResult("run-id", ingest, _train(), _monitor(True), again,
                             _cost("lifecycle-key", 0.0, 0.0))  # fmt: skip
    text = result.summary()
    for expected in ("champion:  telco-churn v1", "3874 rows validated", "v2 PROMOTED",
                     "month_01: drift", "retrained: profit gain"):  # fmt: skip
        assert expected in text, (expected, text)
    assert f"${result.total.total_usd:,.4f}" in text
    assert result.total.staff_usd == 200.0  # train, retrain and its train


def test_monitor_and_retrain_summaries_say_why() -> None:
    text = _monitor(True).summary()
    assert "month_01: drift (scored by v1)" in text and "tenure: PSI" in text
    assert "retrain due: drift (500 labelled rows)" in text
    again = RetrainFlowResult("month_01", ("drift",), _train(), _cost("r", 0.0, 50.0),
                              data_source="window", data_rows=4000, new_rows=500)  # fmt: skip
    assert "data: window, 4000 rows (500 new)" in again.summary()


def test_to_json_is_the_whole_result() -> None:
    raw = json.loads(to_json(_train()))
    assert raw["challenger_version"] == "2" and raw["cost"]["staff_usd"] == 75.0
    assert [f["result"]["name"] for f in raw["fits"]] == ["logreg", "hist_gb"]
