"""The campaign's money and the metrics: checked on cases worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.config import CampaignParams
from lifecycle.metrics import campaign_profit, classification_metrics, curves, metric_value

CAMPAIGN = CampaignParams(
    contact_cost=10.0, retained_value=100.0, acceptance_rate=0.5, capacity_share=0.4
)


def test_profit_contacts_the_top_share() -> None:
    y = np.array([1, 0, 1, 0, 0, 1, 0, 0, 0, 0])
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0.2, 0.3, 0.05, 0.04, 0.03, 0.02])
    # top 4 by score: rows 0,1,2,5 -> 3 churners; 3 * 0.5 * 100 - 4 * 10 = 110
    assert campaign_profit(y, scores, CAMPAIGN) == pytest.approx(110.0)
    # a perfect ranking does at least as well, a reversed one worse
    assert campaign_profit(y, y.astype(float), CAMPAIGN) >= 110.0
    assert campaign_profit(y, -scores, CAMPAIGN) < 110.0


def test_metrics_are_oriented_higher_is_better() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    good = np.clip(y * 0.6 + rng.random(500) * 0.4, 0, 1)
    noise = rng.random(500)
    for name in ("profit", "roc_auc", "pr_auc", "neg_log_loss", "neg_brier", "f1"):
        assert metric_value(name, y, good, CAMPAIGN) > metric_value(name, y, noise, CAMPAIGN), name
    with pytest.raises(ValueError, match="unknown metric"):
        metric_value("accuracy", y, good, CAMPAIGN)


def test_classification_metrics_and_curves() -> None:
    y = np.array([0, 0, 1, 1])
    s = np.array([0.1, 0.4, 0.35, 0.8])
    m = classification_metrics(y, s, 0.5, CAMPAIGN)
    assert m["roc_auc"] == pytest.approx(0.75)
    assert m["rows"] == 4 and m["positive_rate"] == 0.5
    c = curves(y, s)
    assert set(c) == {"roc", "precision_recall", "calibration", "gain"}
    assert c["gain"][-1]["captured"] == pytest.approx(1.0)
    assert c["roc"][0] == {"fpr": 0.0, "tpr": 0.0}
