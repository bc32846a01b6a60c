"""The whole check on the real telco table: identical data, each built-in scenario, bad input."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifecycle.config import Params
from lifecycle.ingest import apply_scenario
from lifecycle.monitor import (
    MonitorError,
    PerformanceBaseline,
    check_drift,
    label_array,
    load_reference,
    load_window,
    performance,
    write_report_html,
    write_report_json,
)


def test_identical_data_shows_no_drift(params: Params, reference: pd.DataFrame) -> None:
    report = check_drift(reference, reference.copy(), params, "same")
    assert report.verdict == "ok"
    assert report.drifting_features == ()
    assert report.data_drift is False
    assert all(f.psi == pytest.approx(0.0, abs=1e-12) for f in report.features)
    assert len(report.features) == len(params.data.features)


def test_an_unchanged_month_shows_no_dataset_drift(
    params: Params, reference: pd.DataFrame, batch: pd.DataFrame
) -> None:
    report = check_drift(reference, batch, params, "month_01")
    assert report.verdict == "ok"
    assert report.data_drift is False
    assert report.worst_drift_score < params.drift.severe_psi


@pytest.mark.parametrize("name", ["price_increase", "contract_mix", "new_payment_method"])
def test_each_feature_scenario_drifts_on_its_column(
    params: Params, reference: pd.DataFrame, batch: pd.DataFrame, name: str
) -> None:
    scenario = params.simulation.scenarios[name]
    drifted = apply_scenario(batch, scenario, params.data, seed=3)
    report = check_drift(reference, drifted, params, name)
    assert report.verdict == "drift"
    assert report.data_drift is True
    assert scenario.column in report.drifting_features
    assert report.drifting_features[0] == scenario.column or len(report.drifting_features) == 1
    column = report.feature(scenario.column)
    assert column.psi is not None
    assert column.psi >= params.drift.severe_psi
    assert any(scenario.column in r for r in report.reasons)
    assert report.worst_drift_score == pytest.approx(column.drift_score)


def test_new_category_scenario_names_the_unseen_value(
    params: Params, reference: pd.DataFrame, batch: pd.DataFrame
) -> None:
    scenario = params.simulation.scenarios["new_payment_method"]
    report = check_drift(reference, apply_scenario(batch, scenario, params.data, 3), params, "w")
    column = report.feature(scenario.column)
    assert column.unseen_values == (scenario.value,)
    assert column.unseen_share == pytest.approx(scenario.share, abs=0.06)


def _fit(params: Params, frame: pd.DataFrame) -> Any:
    """A real, small sklearn model of churn on the reference period."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    data = params.data
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), list(data.numeric)),
            ("cat", OneHotEncoder(handle_unknown="ignore"), list(data.categorical)),
        ]
    )
    model = make_pipeline(prep, LogisticRegression(max_iter=1000))
    y = (frame[data.target].astype(str) == str(data.positive_label)).astype(int)
    return model.fit(frame[list(data.features)], y)


def test_relation_scenario_is_decay_not_feature_drift(
    params: Params, arrival: tuple[pd.DataFrame, list[pd.DataFrame]]
) -> None:
    reference, months = arrival
    model = _fit(params, reference)
    features = list(params.data.features)

    def scores(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(model.predict_proba(frame[features])[:, 1])

    unchanged = months[1]
    y = label_array(unchanged, params.data)
    assert y is not None
    ok = performance(y, scores(unchanged), params.campaign, params.drift)
    assert ok.roc_auc is not None
    assert ok.roc_auc > 0.75
    assert ok.profit_per_customer is not None
    baseline = PerformanceBaseline(ok.roc_auc, ok.profit_per_customer)

    scenario = params.simulation.scenarios["tenure_relation"]
    batch = months[0]
    changed = apply_scenario(batch, scenario, params.data, seed=3)
    report = check_drift(
        reference, changed, params, "relation", scores(reference), scores(changed), baseline
    )
    assert report.data_drift is False
    assert report.feature(scenario.column).drifted is False
    assert report.prediction_drift is False
    assert report.performance is not None
    assert report.performance.decayed is True
    assert report.performance.roc_auc is not None
    assert report.performance.roc_auc < 0.6
    assert report.verdict == "decay"
    assert any("ROC AUC" in r for r in report.reasons)

    same = check_drift(
        reference, batch, params, "plain", scores(reference), scores(batch), baseline
    )
    assert same.performance is not None
    assert same.performance.decayed is False
    assert same.verdict == "ok"


def test_campaign_profit_of_a_perfect_ranking(params: Params) -> None:
    y = np.array([1] * 20 + [0] * 80)
    s = np.linspace(1, 0, 100)
    result = performance(y, s, params.campaign, params.drift)
    c = params.campaign
    expected = 20 * c.acceptance_rate * c.retained_value - 20 * c.contact_cost
    assert result.roc_auc == 1.0
    assert result.profit == pytest.approx(expected)
    assert result.decayed is None  # no baseline: no judgement
    assert "no champion baseline" in result.reasons[0]


def test_performance_needs_both_classes_and_enough_rows(params: Params) -> None:
    one_class = performance(np.ones(100), np.linspace(0, 1, 100), params.campaign, params.drift)
    assert one_class.decayed is None
    assert "one class" in one_class.reasons[0]
    few = performance(np.array([0, 1]), np.array([0.1, 0.9]), params.campaign, params.drift)
    assert few.decayed is None
    assert "min_rows" in few.reasons[0]


def test_labels_from_strings_numbers_and_gaps(params: Params) -> None:
    data = params.data
    frame = pd.DataFrame({"label": ["Yes", "No", None, "Yes"]})
    assert np.array_equal(label_array(frame, data), [1.0, 0.0, np.nan, 1.0], equal_nan=True)
    numeric = pd.DataFrame({data.target: [1, 0, 1]})
    assert label_array(numeric, data).tolist() == [1.0, 0.0, 1.0]  # type: ignore[union-attr]
    assert label_array(pd.DataFrame({"x": [1]}), data) is None


def test_empty_window_is_a_clear_error(params: Params, reference: pd.DataFrame) -> None:
    with pytest.raises(MonitorError, match="window 'empty': it has no rows"):
        check_drift(reference, reference.iloc[:0], params, "empty")


def test_missing_columns_are_named(
    params: Params, reference: pd.DataFrame, batch: pd.DataFrame
) -> None:
    gone = params.data.numeric[0]
    with pytest.raises(MonitorError, match=rf"columns missing \['{gone}'\]"):
        check_drift(reference, batch.drop(columns=[gone]), params, "w")


def test_a_window_too_small_for_any_test_gets_no_verdict(
    params: Params, reference: pd.DataFrame, batch: pd.DataFrame
) -> None:
    report = check_drift(reference, batch.iloc[:10], params, "tiny")
    assert report.verdict == "insufficient"
    assert report.data_drift is None
    assert "too small for any test: 10 rows" in report.reasons[0]
    assert all(f.drifted is None for f in report.features)


def test_missing_reference_and_window_files(tmp_path: Any) -> None:
    with pytest.raises(MonitorError, match=r"reference: file .* does not exist"):
        load_reference(tmp_path / "nope.parquet")
    with pytest.raises(MonitorError, match=r"window: .* does not exist"):
        load_window(tmp_path / "nope")
    (tmp_path / "log").mkdir()
    with pytest.raises(MonitorError, match="holds no"):
        load_window(tmp_path / "log")
    (tmp_path / "x.csv").write_text("a\n1\n")
    with pytest.raises(MonitorError, match=r"suffix '\.csv'"):
        load_window(tmp_path / "x.csv")
    (tmp_path / "log" / "empty.jsonl").write_text("")
    with pytest.raises(MonitorError, match="has no rows"):
        load_window(tmp_path / "log")


def test_prediction_log_folder_of_jsonl_and_parquet(
    params: Params, batch: pd.DataFrame, tmp_path: Any
) -> None:
    log = tmp_path / "predictions"
    (log / "day=2026-01-01").mkdir(parents=True)
    (log / "day=2026-01-02").mkdir(parents=True)
    rows = batch.assign(request_id=range(len(batch)), score=0.3, model_version="1")
    half = len(rows) // 2
    rows.iloc[:half].to_json(log / "day=2026-01-01" / "part.jsonl", orient="records", lines=True)
    rows.iloc[half:].to_parquet(log / "day=2026-01-02" / "part.parquet")
    frame = load_window(log)
    assert len(frame) == len(batch)
    assert set(params.data.features) <= set(frame.columns)


def test_reports_are_written_as_json_and_offline_html(
    params: Params, reference: pd.DataFrame, batch: pd.DataFrame, tmp_path: Any
) -> None:
    scenario = params.simulation.scenarios["price_increase"]
    drifted = apply_scenario(batch, scenario, params.data, seed=3)
    report = check_drift(reference, drifted, params, "month_01-price_increase")
    json_path = write_report_json(report, tmp_path)
    html_path = write_report_html(report, reference, drifted, tmp_path)
    assert json_path.name == "month_01-price_increase.json"
    body = json.loads(json_path.read_text())
    assert body["verdict"] == "drift"
    assert scenario.column in body["drifting_features"]
    assert body["features"][0]["column"] == params.data.numeric[0]
    page = html_path.read_text()
    assert page.count("<svg") == len(report.drifting_features)
    assert f"<h2>{scenario.column}</h2>" in page
    assert "<script" not in page
    assert "<link" not in page
    assert 'src="http' not in page
    assert f"| {scenario.column} | ks |" in report.to_markdown()


def test_baseline_from_the_evaluate_metrics_file(tmp_path: Any) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(
        json.dumps(
            {
                "challenger_holdout": {"roc_auc": 0.7, "profit_per_customer": 1.0},
                "holdout": {"roc_auc": 0.84, "profit_per_customer": 9.5},
            },
            sort_keys=True,
        )
    )
    assert PerformanceBaseline.from_metrics_file(path) == PerformanceBaseline(0.84, 9.5)
    path.write_text(json.dumps({"rows": 3}))
    with pytest.raises(MonitorError, match="no numeric 'roc_auc'"):
        PerformanceBaseline.from_metrics_file(path)
    with pytest.raises(MonitorError, match="does not exist"):
        PerformanceBaseline.from_metrics_file(tmp_path / "none.json")
