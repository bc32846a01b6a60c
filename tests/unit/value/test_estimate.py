"""The estimator against cases whose expected confusion matrix is known exactly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

from lifecycle.config import CampaignParams, ConfigError, parse_params
from lifecycle.metrics import campaign_profit
from lifecycle.value.estimate import (
    EstimateError,
    estimate,
    expected_confusion,
    expected_roc_auc,
    realized_roc_auc,
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


@pytest.mark.parametrize("draws", [0, 400])
def test_calibrated_scores_estimate_the_mean_of_realized_outcomes(draws: int) -> None:
    rng = np.random.default_rng(3)
    p = rng.beta(1.2, 3.0, 1500)
    est = estimate(p, p, CAMPAIGN, confidence=0.9, draws=draws, seed=1)
    outcomes = (rng.random((400, p.size)) < p).astype(float)
    values = np.array([campaign_profit(y, p, CAMPAIGN) for y in outcomes])
    n1 = outcomes.sum(axis=1)  # the rank-sum form of each draw's AUC, checked on a few below
    aucs = (outcomes @ rankdata(p) - n1 * (n1 + 1) / 2) / (n1 * (p.size - n1))
    assert aucs[:5] == pytest.approx([roc_auc_score(y, p) for y in outcomes[:5]])
    assert est.value_usd.point == pytest.approx(values.mean(), rel=0.01)
    assert est.roc_auc is not None
    assert est.roc_auc.point == pytest.approx(aucs.mean(), abs=0.002)
    covered = np.mean([est.value_usd.contains(v) for v in values])
    assert 0.85 <= covered <= 0.95  # a 90% interval covers about 90% of realized values
    auc_covered = np.mean([est.roc_auc.contains(a) for a in aucs])
    assert 0.85 <= auc_covered <= 0.95
    assert est.roc_auc.low < est.roc_auc.point < est.roc_auc.high


@pytest.mark.parametrize("n", [40, 300, 2000])
def test_closed_form_intervals_match_many_outcome_draws(n: int) -> None:
    # the closed form (Poisson-binomial moments, delta-method AUC) against 10,000 seeded draws
    rng = np.random.default_rng(n)
    p = rng.beta(1.2, 3.0, n)
    scores = p + rng.normal(0, 0.05, n)  # ranked by a noisier score than the probability
    closed = estimate(scores, p, CAMPAIGN)
    drawn = estimate(scores, p, CAMPAIGN, draws=10000, seed=2)
    assert closed.confusion == drawn.confusion
    assert closed.value_usd.point == drawn.value_usd.point
    one_hit = CAMPAIGN.acceptance_rate * CAMPAIGN.retained_value  # draws give whole churners
    assert closed.value_usd.low == pytest.approx(drawn.value_usd.low, abs=one_hit)
    assert closed.value_usd.high == pytest.approx(drawn.value_usd.high, abs=one_hit)
    hits = (closed.value_usd.high + closed.contacted * CAMPAIGN.contact_cost) / one_hit
    assert hits == pytest.approx(round(hits))  # an end a realized campaign can reach
    assert closed.roc_auc is not None and drawn.roc_auc is not None
    assert closed.roc_auc.point == drawn.roc_auc.point
    width = drawn.roc_auc.high - drawn.roc_auc.low
    assert closed.roc_auc.low == pytest.approx(drawn.roc_auc.low, abs=0.06 * width)
    assert closed.roc_auc.high == pytest.approx(drawn.roc_auc.high, abs=0.06 * width)


def test_tied_scores_rank_as_roc_auc_score_does() -> None:
    # certain outcomes: every draw is the same, so the drawn AUC is the realized one, ties included
    scores = np.array([0.9, 0.7, 0.7, 0.7, 0.4, 0.4, 0.2, 0.1])
    y = np.array([1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0])
    expected = roc_auc_score(y, scores)
    assert expected_roc_auc(scores, y) == pytest.approx(expected)
    assert realized_roc_auc(y, scores) == pytest.approx(expected)
    assert realized_roc_auc(np.ones(8), scores) is None  # one outcome only: no AUC
    for draws in (0, 100):
        est = estimate(scores, y, CAMPAIGN, draws=draws)
        assert est.roc_auc is not None
        assert (est.roc_auc.low, est.roc_auc.point, est.roc_auc.high) == pytest.approx(
            (expected, expected, expected)
        )
        assert est.value_usd.low == est.value_usd.point == est.value_usd.high


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


@pytest.mark.parametrize("draws", [1, 49])
def test_a_handful_of_draws_is_refused(repo_params_mapping: dict[str, object], draws: int) -> None:
    raw = {**repo_params_mapping, "value": {"draws": draws}}
    with pytest.raises((ConfigError, ValueError), match=f"value.draws = {draws}: must be 0"):
        parse_params(raw)
