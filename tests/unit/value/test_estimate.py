"""The estimator against cases whose expected confusion matrix is known exactly."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from lifecycle.config import CampaignParams
from lifecycle.metrics import campaign_profit
from lifecycle.value.estimate import (
    EstimateError,
    estimate,
    expected_confusion,
    expected_roc_auc,
)

CAMPAIGN = CampaignParams(
    contact_cost=12.0, retained_value=600.0, acceptance_rate=0.3, capacity_share=0.2
)


def test_expected_confusion_of_a_known_case() -> None:
    # ten customers, the campaign calls two: the top two hold 0.9 + 0.8 churners on average
    p = np.array([0.9, 0.8, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.1, 0.1])
    c = expected_confusion(p, p, CAMPAIGN)
    assert c.tp == pytest.approx(1.7)
    assert c.fp == pytest.approx(0.3)
    assert c.fn == pytest.approx(2.3)
    assert c.tn == pytest.approx(8 - 2.3)
    est = estimate(p, p, CAMPAIGN)
    assert est.contacted == 2
    assert est.precision.point == pytest.approx(0.85)
    assert est.value_usd.point == pytest.approx(1.7 * 180 - 2 * 12)


def test_ranking_is_by_score_while_probabilities_count() -> None:
    # the calibrated probability may flatten ranks; who is called follows the raw score
    scores = np.array([0.99, 0.98, 0.5, 0.4, 0.3])
    probs = np.array([0.6, 0.6, 0.6, 0.2, 0.1])
    c = expected_confusion(scores, probs, CAMPAIGN)
    assert c.tp == pytest.approx(0.6)  # one customer called (20% of 5)


def test_expected_auc_is_exact_when_outcomes_are_certain() -> None:
    scores = np.array([0.9, 0.8, 0.3, 0.1])
    assert expected_roc_auc(scores, np.array([1.0, 1.0, 0.0, 0.0])) == pytest.approx(1.0)
    assert expected_roc_auc(scores, np.array([0.0, 1.0, 0.0, 1.0])) == pytest.approx(0.25)
    assert expected_roc_auc(scores, np.zeros(4)) is None


def test_calibrated_scores_estimate_the_mean_of_realized_outcomes() -> None:
    rng = np.random.default_rng(3)
    p = rng.beta(1.2, 3.0, 1500)
    est = estimate(p, p, CAMPAIGN, confidence=0.9, draws=400, seed=1)
    draws = [(rng.random(p.size) < p).astype(float) for _ in range(300)]
    values = np.array([campaign_profit(y, p, CAMPAIGN) for y in draws])
    aucs = np.array([roc_auc_score(y, p) for y in draws[:60]])
    assert est.value_usd.point == pytest.approx(values.mean(), rel=0.01)
    assert est.roc_auc is not None
    assert est.roc_auc.point == pytest.approx(aucs.mean(), abs=0.005)
    covered = np.mean([est.value_usd.contains(v) for v in values])
    assert 0.84 <= covered <= 0.96  # a 90% interval covers about 90% of realized values
    assert est.roc_auc.low < est.roc_auc.point < est.roc_auc.high


def test_same_seed_same_interval() -> None:
    p = np.linspace(0.05, 0.95, 200)
    assert estimate(p, p, CAMPAIGN, seed=5) == estimate(p, p, CAMPAIGN, seed=5)


@pytest.mark.parametrize(
    ("scores", "probs", "message"),
    [
        ([0.1, np.nan], [0.1, 0.2], "finite"),
        ([0.1, 0.2], [0.1, 1.2], "within \\[0, 1\\]"),
        ([0.1, 0.2], [0.1], "one 1-d length"),
        ([], [], "no rows to estimate"),
    ],
)
def test_bad_input_is_named(scores: list[float], probs: list[float], message: str) -> None:
    with pytest.raises(EstimateError, match=message):
        estimate(scores, probs, CAMPAIGN)
