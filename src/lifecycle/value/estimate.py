"""Performance and value before outcomes arrive, from calibrated probabilities (as NannyML's CBPE).

With calibrated probabilities p, the expected confusion matrix of any decision is known: the
contacted customers hold sum(p) churners on average. Expected precision and campaign value are
exact expectations; the expected ROC AUC follows CBPE (expected TPR and FPR at every score).
Intervals come from outcome draws y ~ Bernoulli(p) (seeded): the spread the realized figure
will show even when the estimator is right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.config import CampaignParams
from lifecycle.value.economics import contacted, gain

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]


class EstimateError(ValueError):
    """Scores or probabilities the estimator cannot use, named with what is wrong."""


@dataclass(frozen=True)
class Interval:
    """A point estimate and its interval."""

    point: float
    low: float
    high: float

    def contains(self, value: float) -> bool:
        """Whether a realized figure falls inside the interval."""
        return self.low <= value <= self.high


@dataclass(frozen=True)
class Confusion:
    """The expected confusion matrix of contacting the top `contacted` customers."""

    tp: float
    fp: float
    fn: float
    tn: float


@dataclass(frozen=True)
class Estimate:
    """A period's expected performance and campaign value, each with an interval."""

    rows: int
    contacted: int
    confusion: Confusion
    roc_auc: Interval | None
    precision: Interval
    value_usd: Interval


def _arrays(scores: Any, probs: Any) -> tuple[FloatArray, FloatArray]:
    """Scores and probabilities as float arrays of one length, probabilities within [0, 1]."""
    import numpy as np

    s = np.asarray(scores, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    if s.shape != p.shape or s.ndim != 1:
        raise EstimateError(f"scores {s.shape} and probabilities {p.shape}: need one 1-d length")
    if not (np.isfinite(s).all() and np.isfinite(p).all()):
        raise EstimateError("scores and probabilities must be finite (a NaN score cannot rank)")
    if p.size and (p.min() < 0 or p.max() > 1):
        raise EstimateError(f"probabilities range {p.min()}..{p.max()}: must be within [0, 1]")
    return s, p


def top(scores: FloatArray, k: int) -> Any:
    """Indices of the k highest scores (stable: ties keep their order, as campaign_profit)."""
    import numpy as np

    return np.argsort(-scores, kind="stable")[:k]


def expected_confusion(scores: Any, probs: Any, campaign: CampaignParams) -> Confusion:
    """Expected TP, FP, FN, TN of contacting the top capacity share by score."""
    import numpy as np

    s, p = _arrays(scores, probs)
    k = contacted(s.size, campaign)
    chosen = np.zeros(s.size, dtype=bool)
    chosen[top(s, k)] = True
    tp = float(p[chosen].sum())
    fn = float(p[~chosen].sum())
    return Confusion(tp=tp, fp=k - tp, fn=fn, tn=float((~chosen).sum()) - fn)


def expected_roc_auc(scores: Any, probs: Any) -> float | None:
    """CBPE's ROC AUC: expected TPR and FPR at every distinct score, by the trapezoid rule."""
    import numpy as np

    s, p = _arrays(scores, probs)
    pos, neg = p.sum(), (1 - p).sum()
    if pos <= 0 or neg <= 0:
        return None
    order = np.argsort(-s, kind="stable")
    s, p = s[order], p[order]
    last = np.r_[np.flatnonzero(np.diff(s) != 0), s.size - 1]  # end of each tie group
    tpr = np.r_[0.0, np.cumsum(p)[last] / pos]
    fpr = np.r_[0.0, np.cumsum(1 - p)[last] / neg]
    return float(np.trapezoid(tpr, fpr))


def _ranks(scores: FloatArray) -> FloatArray:
    """Average ranks (ties share), 1-based, for the rank-sum form of ROC AUC."""
    import numpy as np
    from scipy.stats import rankdata

    return np.asarray(rankdata(scores), dtype=np.float64)


def estimate(
    scores: Any,
    probs: Any,
    campaign: CampaignParams,
    *,
    confidence: float = 0.9,
    draws: int = 400,
    seed: int = 42,
) -> Estimate:
    """Expected confusion, precision, value and ROC AUC of one period, with intervals."""
    import numpy as np

    s, p = _arrays(scores, probs)
    if s.size == 0:
        raise EstimateError("no rows to estimate: a period needs at least one scored customer")
    k = contacted(s.size, campaign)
    conf = expected_confusion(s, p, campaign)
    chosen = top(s, k)
    rng = np.random.default_rng(seed)
    y = (rng.random((draws, s.size)) < p).astype(np.float64)
    hits = y[:, chosen].sum(axis=1)
    money = hits * gain(campaign) - k * campaign.contact_cost
    lo, hi = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    value = Interval(conf.tp * gain(campaign) - k * campaign.contact_cost,
                     *(float(q) for q in np.quantile(money, [lo, hi])))  # fmt: skip
    precision = Interval(conf.tp / k, *(float(q) for q in np.quantile(hits / k, [lo, hi])))
    return Estimate(s.size, k, conf, _auc_interval(s, p, y, lo, hi), precision, value)


def _auc_interval(
    s: FloatArray, p: FloatArray, y: FloatArray, lo: float, hi: float
) -> Interval | None:
    """CBPE's expected AUC, with the spread of the AUCs the outcome draws would realize."""
    import numpy as np

    point = expected_roc_auc(s, p)
    if point is None:
        return None
    n1 = y.sum(axis=1)
    n0 = s.size - n1
    ok = (n1 > 0) & (n0 > 0)
    if not ok.any():
        return Interval(point, point, point)
    aucs = (y[ok] @ _ranks(s) - n1[ok] * (n1[ok] + 1) / 2) / (n1[ok] * n0[ok])
    low, high = (float(q) for q in np.quantile(aucs, [lo, hi]))
    shift = point - float(aucs.mean())  # centre the draws' spread on CBPE's point
    return Interval(point, min(point, low + shift), max(point, high + shift))
