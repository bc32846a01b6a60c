"""Performance of a labelled window against the champion's holdout figures; where outcomes are."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifecycle.config import CampaignParams, DataParams, DriftParams
from lifecycle.metrics import campaign_profit
from lifecycle.monitor.results import Performance, PerformanceBaseline
from lifecycle.monitor.stats import FloatArray

LABEL_COLUMN = "label"
OUTCOME_COLUMN = "outcome"  # the real label, as the prediction log's feedback join names it


def performance(
    y_true: Any,
    scores: Any,
    campaign: CampaignParams,
    drift: DriftParams,
    baseline: PerformanceBaseline | None = None,
) -> Performance:
    """ROC AUC and campaign profit of a labelled window; decay when below the champion's figures."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y_true, dtype=float)
    s = np.asarray(scores, dtype=float)
    keep = np.isfinite(y) & np.isfinite(s)
    y, s = y[keep].astype(int), s[keep]
    n = int(y.size)
    if n < drift.min_rows:
        reason = f"performance: {n} labelled rows with scores, drift.min_rows is {drift.min_rows}"
        return Performance(n, None, baseline=baseline, reasons=(reason,))
    if len(np.unique(y)) < 2:
        reason = f"performance: all {n} labelled rows have one class; ROC AUC needs both"
        return Performance(n, None, baseline=baseline, reasons=(reason,))
    auc = float(roc_auc_score(y, s))
    profit = float(campaign_profit(y, s, campaign))
    ppc = profit / n
    if baseline is None:
        reason = "performance: no champion baseline to compare with"
        return Performance(n, None, auc, profit, ppc, None, (reason,))
    reasons: list[str] = []
    if auc < baseline.roc_auc - drift.auc_drop:
        reasons.append(
            f"performance: ROC AUC {auc:.3f} is more than {drift.auc_drop} below the "
            f"champion's {baseline.roc_auc:.3f}"
        )
    base_ppc = baseline.profit_per_customer
    if base_ppc is not None and ppc < base_ppc - drift.profit_drop_share * abs(base_ppc):
        reasons.append(
            f"performance: campaign profit {ppc:.2f} per customer is more than "
            f"{drift.profit_drop_share:.0%} below the champion's {base_ppc:.2f}"
        )
    return Performance(n, bool(reasons), auc, profit, ppc, baseline, tuple(reasons))


def outcome_column(frame: pd.DataFrame, data: DataParams) -> str | None:
    """Where the real outcomes are: the feedback join's column, a label column, or the target.

    In the service's prediction log `label` is the *predicted* label (the log carries
    `model_version` and `source`), so there it is never taken for an outcome.
    """
    if OUTCOME_COLUMN in frame.columns:
        return OUTCOME_COLUMN
    predicted = {"model_version", "source"} <= set(frame.columns)
    if LABEL_COLUMN in frame.columns and not predicted:
        return LABEL_COLUMN
    return data.target if data.target in frame.columns else None


def label_array(frame: pd.DataFrame, data: DataParams) -> FloatArray | None:
    """Outcomes as 1.0/0.0/NaN from the log's label column or the batch's target, if present."""
    col = outcome_column(frame, data)
    if col is None:
        return None
    raw = frame[col]
    out = np.full(len(raw), np.nan)
    known = raw.notna().to_numpy()
    if pd.api.types.is_bool_dtype(raw) or pd.api.types.is_numeric_dtype(raw):
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        if isinstance(data.positive_label, int):
            out[known] = (values[known] == data.positive_label).astype(float)
        else:
            out[known] = (values[known] != 0).astype(float)
    else:
        text = raw.astype(str).to_numpy()
        positive = (text == str(data.positive_label)) | (text == "1") | (text == "True")
        out[known] = positive[known].astype(float)
    return out
