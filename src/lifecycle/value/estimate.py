"""Performance and value before outcomes arrive, from calibrated probabilities (as NannyML's CBPE).

With calibrated probabilities p, the expected confusion matrix of any decision is known: the
contacted customers hold sum(p) churners on average. Expected precision and campaign value are
exact expectations; the expected ROC AUC follows CBPE (expected TPR and FPR at every score).
Intervals give the spread the realized figure will show even when the estimator is right, in
closed form from one sort (O(n log n)): the contacted churners are a Poisson-binomial count
(its mean, variance and skew), the ROC AUC a rank sum over Bernoulli outcomes (delta method).
With `draws` > 0 they come from that many seeded outcome draws y ~ Bernoulli(p) instead (the
slower check the closed form is tested against).
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


@dataclass(frozen=True)
class _Sorted:
    """One period sorted once by descending score: what every figure is read from."""

    p: FloatArray  # probabilities, highest score first (ties in their original order)
    ranks: FloatArray  # ascending average ranks (1-based, ties share) of those rows
    last: Any  # index of the last row of each tie group


def _sorted(s: FloatArray, p: FloatArray) -> _Sorted:
    """Sort once; tie groups and average ranks come from the same pass (no scipy)."""
    import numpy as np

    order = np.argsort(-s, kind="stable")
    ss = s[order]
    last = np.append(np.flatnonzero(ss[1:] != ss[:-1]), ss.size - 1)
    first = np.append(0, last[:-1] + 1)
    # descending position i has ascending rank n - i; a tie group shares its mean rank
    mean_rank = ss.size - (first + last) / 2.0
    ranks = np.repeat(mean_rank, last - first + 1)
    return _Sorted(p[order], ranks, last)


def expected_confusion(scores: Any, probs: Any, campaign: CampaignParams) -> Confusion:
    """Expected TP, FP, FN, TN of contacting the top capacity share by score."""
    s, p = _arrays(scores, probs)
    return _confusion(_sorted(s, p).p, contacted(s.size, campaign))


def _confusion(p_desc: FloatArray, k: int) -> Confusion:
    """The expected confusion matrix when the first k of the score-sorted rows are contacted."""
    tp = float(p_desc[:k].sum())
    fn = float(p_desc[k:].sum())
    return Confusion(tp=tp, fp=k - tp, fn=fn, tn=float(p_desc.size - k) - fn)


def expected_roc_auc(scores: Any, probs: Any) -> float | None:
    """CBPE's ROC AUC: expected TPR and FPR at every distinct score, by the trapezoid rule."""
    s, p = _arrays(scores, probs)
    return _expected_auc(_sorted(s, p))


def realized_roc_auc(y: Any, scores: Any) -> float | None:
    """ROC AUC once outcomes are known: CBPE's with 0/1 probabilities is exactly roc_auc_score's.

    One sort instead of scikit-learn's input checks, which cost more than the estimate itself.
    """
    return expected_roc_auc(scores, y)


def _expected_auc(srt: _Sorted) -> float | None:
    """The trapezoid under expected (FPR, TPR) at the end of every tie group."""
    import numpy as np

    p = srt.p
    pos, neg = float(p.sum()), float((1 - p).sum())
    if pos <= 0 or neg <= 0:
        return None
    cum = np.cumsum(p)[srt.last]
    tpr = np.append(0.0, cum / pos)
    fpr = np.append(0.0, (srt.last + 1 - cum) / neg)
    return float(np.trapezoid(tpr, fpr))


def estimate(
    scores: Any,
    probs: Any,
    campaign: CampaignParams,
    *,
    confidence: float = 0.9,
    draws: int = 0,
    seed: int = 42,
) -> Estimate:
    """Expected confusion, precision, value and ROC AUC of one period, with intervals."""
    s, p = _arrays(scores, probs)
    if s.size == 0:
        raise EstimateError("no rows to estimate: a period needs at least one scored customer")
    srt = _sorted(s, p)
    k = contacted(s.size, campaign)
    conf = _confusion(srt.p, k)
    point = _expected_auc(srt)
    if draws > 0:
        hits, auc = _drawn(srt, k, point, confidence, draws, seed)
    else:
        hits, auc = _hits_interval(srt.p[:k], confidence), _auc_closed(srt, point, confidence)
    g, cost = gain(campaign), k * campaign.contact_cost
    value = Interval(conf.tp * g - cost, hits[0] * g - cost, hits[1] * g - cost)
    precision = Interval(conf.tp / k, hits[0] / k, hits[1] / k)
    return Estimate(s.size, k, conf, auc, precision, value)


def _z(confidence: float) -> float:
    """The standard normal quantile of a two-sided interval of this confidence."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(1 - (1 - confidence) / 2)


def _hits_interval(p: FloatArray, confidence: float) -> tuple[float, float]:
    """Quantiles of the contacted churners, a Poisson-binomial count, in whole churners.

    Its mean, variance and skew are exact; the quantiles are Cornish-Fisher's with a continuity
    correction, so the ends are the counts a realized campaign can reach (as drawn quantiles are).
    """
    import math

    mean = float(p.sum())
    v = p * (1 - p)
    var = float(v.sum())
    if var <= 0:
        return mean, mean
    sd = var**0.5
    skew = float((v * (1 - 2 * p)).sum()) / var**1.5
    z = _z(confidence)
    low = mean + sd * (-z + (z * z - 1) * skew / 6)
    high = mean + sd * (z + (z * z - 1) * skew / 6)
    return max(0.0, math.floor(low + 0.5)), min(float(p.size), math.ceil(high - 0.5))


def _auc_closed(srt: _Sorted, point: float | None, confidence: float) -> Interval | None:
    """The AUC's spread over outcome draws by the delta method on (rank sum U, positives N1).

    AUC = (U - N1 (N1 + 1) / 2) / (N1 (n - N1)) with U = sum y r and N1 = sum y, both sums of
    independent Bernoulli outcomes whose variances and covariance are exact; centred on CBPE.
    """
    if point is None:
        return None
    p, r, n = srt.p, srt.ranks, float(srt.p.size)
    v = p * (1 - p)
    var1, var_u, cov = float(v.sum()), float((v * r * r).sum()), float((v * r).sum())
    n1, u = float(p.sum()), float((p * r).sum())
    den = n1 * (n - n1)
    num = u - n1 * (n1 + 1) / 2
    a = 1 / den
    b = (-(n1 + 0.5) * den - num * (n - 2 * n1)) / den**2
    spread = _z(confidence) * max(0.0, a * a * var_u + 2 * a * b * cov + b * b * var1) ** 0.5
    return Interval(point, max(0.0, point - spread), min(1.0, point + spread))


def _drawn(
    srt: _Sorted, k: int, point: float | None, confidence: float, draws: int, seed: int
) -> tuple[tuple[float, float], Interval | None]:
    """The same intervals from seeded outcome draws (the check of the closed form)."""
    import numpy as np

    lo, hi = (1 - confidence) / 2, 1 - (1 - confidence) / 2
    rng = np.random.default_rng(seed)
    y = rng.random((draws, srt.p.size)) < srt.p
    hits_q = np.quantile(y[:, :k].sum(axis=1), [lo, hi])
    hits = (float(hits_q[0]), float(hits_q[1]))
    if point is None:
        return hits, None
    n1 = y.sum(axis=1).astype(np.float64)
    n0 = srt.p.size - n1
    ok = (n1 > 0) & (n0 > 0)
    if not ok.any():
        return hits, Interval(point, point, point)
    aucs = (y[ok] @ srt.ranks - n1[ok] * (n1[ok] + 1) / 2) / (n1[ok] * n0[ok])
    low, high = (float(q) for q in np.quantile(aucs, [lo, hi]))
    shift = point - float(aucs.mean())  # centre the draws' spread on CBPE's point
    return hits, Interval(point, min(point, low + shift), max(point, high + shift))
