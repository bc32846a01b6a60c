"""The fairness gate on synthetic groups: fair scores pass, group-following scores are blocked."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from lifecycle.config import Params
from lifecycle.fairness import FairnessError, assess, selected


def _data(seed: int = 0, n: int = 4000) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 2, n).astype(float)
    other = rng.integers(0, 2, n).astype(float)
    y = rng.random(n) < 0.3
    frame = pd.DataFrame({"senior_citizen": group, "female": other})
    return frame, y.astype(int), group


def test_fair_scores_pass(make_params: Callable[..., Params]) -> None:
    params = make_params()
    frame, y, _ = _data()
    scores = np.clip(0.6 * y + np.random.default_rng(1).random(len(y)) * 0.5, 0, 1)
    report = assess(frame, y, scores, params)
    assert report.passed, report.reason
    assert report.reason.startswith("fairness within bounds")
    names = [a.attribute for a in report.attributes]
    assert names == ["senior_citizen", "female"]
    for a in report.attributes:
        assert {g.group for g in a.groups} == {"0", "1"}
        assert a.selection_rate_ratio > 0.8 and a.recall_difference < 0.1
    metrics = report.metrics()
    assert metrics["fairness_passed"] == 1.0
    assert "fairness_senior_citizen_selection_rate_ratio" in metrics


def test_scores_that_follow_a_group_are_blocked_with_figures(
    make_params: Callable[..., Params],
) -> None:
    params = make_params()
    frame, y, group = _data()
    scores = 0.8 * group + 0.2 * np.random.default_rng(2).random(len(y))
    report = assess(frame, y, scores, params)
    assert not report.passed
    senior = report.attributes[0]
    assert senior.breaches and senior.selection_rate_ratio < 0.1
    assert "senior_citizen: selection-rate ratio" in report.reason
    assert f"{senior.selection_rate_ratio:.2f} < 0.40" in report.reason
    # the other attribute is independent of the scores: named nowhere in the reason
    assert "female" not in report.reason


def test_recall_gap_alone_blocks(make_params: Callable[..., Params]) -> None:
    params = make_params(fairness={"min_selection_ratio": 0.0, "decision": "threshold"})
    frame, y, group = _data(3)
    # churners of group 1 are found, churners of group 0 are missed half the time
    miss = (group == 0) & (np.random.default_rng(4).random(len(y)) < 0.5)
    scores = np.where((y == 1) & ~miss, 0.9, 0.1)
    report = assess(frame, y, scores, params)
    assert not report.passed
    assert "senior_citizen: recall difference" in report.reason
    assert report.attributes[0].recall_difference == pytest.approx(0.5, abs=0.05)


def test_small_groups_are_reported_not_gated(make_params: Callable[..., Params]) -> None:
    params = make_params(fairness={"min_group_rows": 50})
    frame, y, _ = _data(5, n=1000)
    frame.loc[:9, "senior_citizen"] = 2.0  # a group of 10 rows
    scores = np.where(frame["senior_citizen"] == 2.0, 0.99, 0.6 * y + 0.1)
    report = assess(frame, y, scores, params)
    tiny = next(g for g in report.attributes[0].groups if g.group == "2")
    assert tiny.rows == 10 and not tiny.gated
    assert report.passed, report.reason


def test_campaign_decision_contacts_capacity_share(make_params: Callable[..., Params]) -> None:
    params = make_params()
    scores = np.linspace(0, 1, 1000)
    chosen = selected(scores, params)
    assert chosen.sum() == round(params.campaign.capacity_share * 1000)
    assert chosen[-1] == 1 and chosen[0] == 0


def test_errors_and_switch(make_params: Callable[..., Params]) -> None:
    frame, y, group = _data()
    with pytest.raises(FairnessError, match="not in the data"):
        assess(frame.drop(columns="female"), y, group, make_params())
    many = frame.assign(senior_citizen=np.arange(len(frame)) % 40)
    with pytest.raises(FairnessError, match="40 groups"):
        assess(many, y, group, make_params())
    off = assess(frame, y, group, make_params(fairness={"enabled": False}))
    assert off.passed and "off" in off.reason


def test_figures_equal_a_metricframe_over_every_row(make_params: Callable[..., Params]) -> None:
    """The gate counts (group, outcome, decision) cells: same figures as fairlearn on each row."""
    from functools import partial

    from fairlearn.metrics import MetricFrame, selection_rate
    from sklearn.metrics import precision_score, recall_score

    params = make_params(fairness={"min_group_rows": 1})
    rng = np.random.default_rng(5)
    n = 3000
    frame = pd.DataFrame(
        {
            "senior_citizen": rng.choice([0.0, 1.0, np.nan], n, p=[0.6, 0.39, 0.01]),
            "female": rng.integers(0, 2, n).astype(float),
        }
    )
    y = (rng.random(n) < 0.3).astype(int)
    y[(frame["female"] == 1).to_numpy() & (rng.random(n) < 0.5)] = 0
    scores = np.clip(0.4 * y + rng.random(n) * 0.6, 0, 1)
    report = assess(frame, y, scores, params)
    pred = selected(scores, params)
    for attr in report.attributes:
        labels = frame[attr.attribute].map(lambda v: "missing" if v != v else str(int(v)))
        every_row = MetricFrame(
            metrics={
                "selection_rate": selection_rate,
                "recall": partial(recall_score, zero_division=0),
                "precision": partial(precision_score, zero_division=0),
            },
            y_true=y,
            y_pred=pred,
            sensitive_features=labels.to_numpy(),
        ).by_group
        assert [g.group for g in attr.groups] == [str(g) for g in every_row.index]
        for g in attr.groups:
            row = every_row.loc[g.group]
            mask = (labels == g.group).to_numpy()
            assert (g.rows, g.positives) == (int(mask.sum()), int(y[mask].sum()))
            assert g.selection_rate == float(row["selection_rate"])  # exact, not approximately
            assert g.recall == float(row["recall"])
            assert g.precision == float(row["precision"])
