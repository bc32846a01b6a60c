"""The whole check on the real telco table: identical data, each built-in scenario, bad input."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifecycle.config import Params
from lifecycle.ingest import apply_scenario
from lifecycle.monitor.check import check_drift
from lifecycle.monitor.errors import MonitorError
from lifecycle.monitor.performance import label_array, performance
from lifecycle.monitor.results import PerformanceBaseline


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
