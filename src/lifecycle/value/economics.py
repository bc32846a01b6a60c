"""A campaign's value on one set of customers, and the baselines it is judged against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lifecycle.config import CampaignParams
from lifecycle.metrics import campaign_profit


@dataclass(frozen=True)
class Baselines:
    """What the same customers and capacity earn without the model (USD)."""

    no_campaign: float
    random: float
    previous: float | None = None
    previous_version: str | None = None


def contacted(rows: int, campaign: CampaignParams) -> int:
    """How many customers the campaign calls out of `rows` (at least one when there are any)."""
    return max(1, round(campaign.capacity_share * rows)) if rows else 0


def gain(campaign: CampaignParams) -> float:
    """USD a contacted churner brings on average (acceptance x retained value)."""
    return campaign.acceptance_rate * campaign.retained_value


def realized_value(y: Any, scores: Any, campaign: CampaignParams) -> float:
    """The campaign's value with outcomes known: churners reached x gain - contacts x cost."""
    return campaign_profit(y, scores, campaign)


def random_value(y: Any, campaign: CampaignParams) -> float:
    """Expected value of calling as many customers drawn at random (an expectation, not a draw)."""
    import numpy as np

    outcomes = np.asarray(y, dtype=float)
    if outcomes.size == 0:
        return 0.0
    k = contacted(outcomes.size, campaign)
    return float(k * (outcomes.mean() * gain(campaign) - campaign.contact_cost))


def baselines(
    y: Any,
    campaign: CampaignParams,
    previous_scores: Any = None,
    previous_version: str | None = None,
) -> Baselines:
    """No campaign (0), random targeting, and the previous champion where its scores exist."""
    prev = None if previous_scores is None else realized_value(y, previous_scores, campaign)
    return Baselines(0.0, random_value(y, campaign), prev, previous_version)
