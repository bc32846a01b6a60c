"""Model metrics and the campaign's money: what a ranking of customers is worth."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lifecycle.config import CampaignParams

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]


def campaign_profit(y_true: Any, scores: Any, campaign: CampaignParams) -> float:
    """Profit of contacting the top `capacity_share` customers by score (USD on these rows)."""
    import numpy as np

    y = np.asarray(y_true, dtype=float)
    s = np.asarray(scores, dtype=float)
    if len(y) == 0:
        return 0.0
    k = max(1, round(campaign.capacity_share * len(y)))
    top = np.argsort(-s, kind="stable")[:k]
    gain = campaign.acceptance_rate * campaign.retained_value
    return float(y[top].sum() * gain - k * campaign.contact_cost)


def profit_per_customer(y_true: Any, scores: Any, campaign: CampaignParams) -> float:
    """Profit per customer in the base, comparable across windows of different sizes."""
    n = len(y_true)
    return campaign_profit(y_true, scores, campaign) / n if n else 0.0


def classification_metrics(
    y_true: Any, scores: Any, threshold: float, campaign: CampaignParams
) -> dict[str, float]:
    """Every metric a run logs: ranking, calibration, thresholded and campaign figures."""
    import numpy as np
    from sklearn import metrics as skm

    y = np.asarray(y_true, dtype=int)
    s = np.clip(np.asarray(scores, dtype=float), 1e-7, 1 - 1e-7)
    both = len(np.unique(y)) == 2
    return {
        "roc_auc": float(skm.roc_auc_score(y, s)) if both else float("nan"),
        "pr_auc": float(skm.average_precision_score(y, s)) if both else float("nan"),
        "log_loss": float(skm.log_loss(y, s, labels=[0, 1])),
        "brier": float(skm.brier_score_loss(y, s)),
        "f1": float(skm.f1_score(y, (s >= threshold).astype(int), zero_division=0)),
        "profit": campaign_profit(y, s, campaign),
        "profit_per_customer": profit_per_customer(y, s, campaign),
        "rows": float(len(y)),
        "positive_rate": float(y.mean()) if len(y) else float("nan"),
    }


def metric_value(name: str, y_true: Any, scores: Any, campaign: CampaignParams) -> float:
    """One named metric, oriented so that higher is better (for selection and promotion)."""
    import numpy as np
    from sklearn import metrics as skm

    y = np.asarray(y_true, dtype=int)
    s = np.clip(np.asarray(scores, dtype=float), 1e-7, 1 - 1e-7)
    if name == "profit":
        return campaign_profit(y, s, campaign)
    if name == "roc_auc":
        return float(skm.roc_auc_score(y, s))
    if name == "pr_auc":
        return float(skm.average_precision_score(y, s))
    if name == "neg_log_loss":
        return -float(skm.log_loss(y, s, labels=[0, 1]))
    if name == "neg_brier":
        return -float(skm.brier_score_loss(y, s))
    if name == "f1":
        return float(skm.f1_score(y, (s >= 0.5).astype(int), zero_division=0))
    raise ValueError(f"unknown metric {name!r}")


def curves(y_true: Any, scores: Any) -> dict[str, list[dict[str, float]]]:
    """ROC, precision-recall, calibration and cumulative gain points, for dvc plots."""
    import numpy as np
    from sklearn import metrics as skm
    from sklearn.calibration import calibration_curve

    y = np.asarray(y_true, dtype=int)
    s = np.asarray(scores, dtype=float)
    fpr, tpr, _ = skm.roc_curve(y, s)
    precision, recall, _ = skm.precision_recall_curve(y, s)
    frac_pos, mean_pred = calibration_curve(y, s, n_bins=10, strategy="quantile")
    order = np.argsort(-s, kind="stable")
    captured = np.cumsum(y[order]) / max(1, y.sum())
    contacted = np.arange(1, len(y) + 1) / len(y)
    step = max(1, len(y) // 100)
    idx = np.unique(np.r_[np.arange(0, len(y), step), len(y) - 1])
    return {
        "roc": _thin([{"fpr": float(a), "tpr": float(b)} for a, b in zip(fpr, tpr, strict=True)]),
        "precision_recall": _thin(
            [
                {"recall": float(r), "precision": float(p)}
                for p, r in zip(precision, recall, strict=True)
            ]
        ),
        "calibration": [
            {"mean_predicted": float(m), "fraction_positive": float(f)}
            for m, f in zip(mean_pred, frac_pos, strict=True)
        ],
        "gain": [{"contacted": float(contacted[i]), "captured": float(captured[i])} for i in idx],
    }


def _thin(points: list[dict[str, float]], most: int = 200) -> list[dict[str, float]]:
    """Keep at most `most` evenly spaced points so plot files stay small and diffable."""
    if len(points) <= most:
        return points
    step = len(points) / most
    kept = [points[int(i * step)] for i in range(most)]
    return [*kept, points[-1]]
