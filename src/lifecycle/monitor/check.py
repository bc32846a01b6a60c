"""The drift check of one window: every feature, the scores, performance; one verdict."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from lifecycle.config import Params
from lifecycle.monitor.drift import categorical_drift, numeric_drift, score_drift
from lifecycle.monitor.errors import MonitorError
from lifecycle.monitor.performance import label_array, performance
from lifecycle.monitor.results import DriftReport, PerformanceBaseline, Verdict
from lifecycle.monitor.windows import SCORE_COLUMN, require_columns

if TYPE_CHECKING:
    import pandas as pd


def check_drift(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    params: Params,
    window: str = "window",
    reference_scores: Any | None = None,
    current_scores: Any | None = None,
    baseline: PerformanceBaseline | None = None,
) -> DriftReport:
    """Compare a window with the reference: every feature, the scores, performance; one verdict."""
    data, drift = params.data, params.drift
    if len(reference) == 0:
        raise MonitorError("reference: it has no rows")
    if len(current) == 0:
        raise MonitorError(f"window {window!r}: it has no rows")
    require_columns(reference, data.features, "reference")
    require_columns(current, data.features, f"window {window!r}")

    features = tuple(
        numeric_drift(c, reference[c], current[c], drift) for c in data.numeric
    ) + tuple(categorical_drift(c, reference[c], current[c], drift) for c in data.categorical)

    if current_scores is None and SCORE_COLUMN in current.columns:
        current_scores = current[SCORE_COLUMN].to_numpy()
    prediction = None
    if reference_scores is not None and current_scores is not None:
        prediction = score_drift(reference_scores, current_scores, drift)

    perf = None
    labels = label_array(current, data)
    if labels is not None and current_scores is not None:
        perf = performance(labels, current_scores, params.campaign, drift, baseline)

    judged = [f for f in features if f.drifted is not None]
    drifting = [f for f in judged if f.drifted]
    share = len(drifting) / len(judged) if judged else None
    reasons: list[str] = []
    data_drift: bool | None = None
    if share is not None:
        severe = [
            f
            for f in drifting
            if (f.psi or 0.0) >= drift.severe_psi
            or (f.unseen_share or 0.0) > drift.max_unseen_share
            or f.missing_current - f.missing_reference > drift.max_missing_increase
        ]
        data_drift = share >= drift.drift_share or bool(severe)
        if data_drift:
            why = f"{len(drifting)} of {len(judged)} features drift ({share:.0%}"
            why += f", drift.drift_share is {drift.drift_share:.0%})"
            if severe:
                why += f"; severe: {', '.join(f.column for f in severe)}"
            reasons.append(why)
        for f in sorted(drifting, key=lambda f: -f.drift_score):
            reasons.extend(f.reasons)
    too_small = [f.reasons[0] for f in features if f.drifted is None]
    if prediction is not None:
        reasons.extend(prediction.reasons)
    if perf is not None:
        reasons.extend(perf.reasons)

    drifted = bool(data_drift) or bool(prediction and prediction.drifted)
    decayed = bool(perf and perf.decayed)
    verdict: Verdict
    if share is None and not decayed:
        verdict = "insufficient"
        reasons = [
            f"window {window!r} too small for any test: {len(current)} rows, "
            f"drift.min_rows is {drift.min_rows}",
            *too_small,
            *reasons,
        ]
    elif drifted and decayed:
        verdict = "drift_and_decay"
    elif decayed:
        verdict = "decay"
    elif drifted:
        verdict = "drift"
    else:
        verdict = "ok"
        reasons.insert(0, f"no drift: {len(drifting)} of {len(judged)} features drift")
    if share is not None:
        reasons.extend(too_small)
    return DriftReport(
        window=window,
        verdict=verdict,
        reasons=tuple(reasons),
        reference_rows=len(reference),
        current_rows=len(current),
        features=features,
        data_drift=data_drift,
        drifting_share=share,
        prediction=prediction,
        performance=perf,
        thresholds=drift.model_dump(),
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
