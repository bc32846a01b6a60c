"""One period's value entries from its served rows: estimated before outcomes, realized after.

A period is a simulated month or a window of the prediction log. Rules for what goes in:
- each (request_id, record) counts once, its latest outcome winning (an outcome posted twice is
  one outcome); with the id column present, each customer counts once (their latest score);
- each model version is valued on the rows it answered, with the campaign's capacity share
  applied to those rows (a swap mid-period gives two entries, no row counted twice);
- realized needs `reveal` (the outcome lag has passed) and at least value.min_labelled_share of
  the rows labelled; it is computed on the labelled rows. Before that the entry is an estimate,
  or "uncalibrated" (no number) when the version's scores are not calibrated enough;
- the previous champion's baseline needs its shadow score on every labelled row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from lifecycle.config import Params
from lifecycle.value.calibration import Calibration
from lifecycle.value.economics import baselines, contacted, realized_value
from lifecycle.value.estimate import estimate
from lifecycle.value.store import ESTIMATED, REALIZED, UNCALIBRATED, ValueEntry, with_errors

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class PeriodError(ValueError):
    """A period frame the value cannot be computed from, named with what is wrong."""


@dataclass(frozen=True)
class Period:
    """Which period a frame is, and what it links to."""

    name: str
    start: datetime
    end: datetime
    links: Mapping[str, str | None]


def outcome_column(frame: pd.DataFrame, params: Params) -> str | None:
    """The frame's outcome column: the prediction log's `outcome`, or the target (a window)."""
    for name in ("outcome", params.data.target):
        if name in frame.columns:
            return name
    return None


def once(frame: pd.DataFrame, params: Params) -> pd.DataFrame:
    """Each (request, record) once and each customer once, the latest line winning."""
    keys = [c for c in ("request_id", "record") if c in frame.columns]
    out = frame.drop_duplicates(keys, keep="last") if len(keys) == 2 else frame
    if params.data.id_column in out.columns:
        out = out.drop_duplicates(params.data.id_column, keep="last")
    return out


def outcomes(frame: pd.DataFrame, params: Params) -> np.ndarray:
    """Outcomes as 1.0 / 0.0, NaN where none arrived; an unknown label is an error."""
    import numpy as np

    col = outcome_column(frame, params)
    if col is None:
        return np.full(len(frame), np.nan)
    raw = frame[col]
    known = {str(x) for x in params.validation.target_labels}
    bad = sorted({str(v) for v in raw.dropna().unique()} - known)
    if bad:
        raise PeriodError(
            f"outcome values {bad[:5]}: not one of validation.target_labels {sorted(known)}"
        )
    y = (raw.astype(str) == str(params.data.positive_label)).to_numpy(dtype=np.float64)
    y[raw.isna().to_numpy()] = np.nan
    return y


def period_entries(
    frame: pd.DataFrame,
    params: Params,
    calibrations: Mapping[str, Calibration],
    period: Period,
    *,
    reveal: bool,
) -> list[ValueEntry]:
    """One entry per model version that scored the period."""
    for need in ("score", "model_version"):
        if need not in frame.columns:
            raise PeriodError(f"period {period.name!r}: column {need!r} is missing")
    rows = once(frame, params)
    rows = rows.assign(model_version=rows["model_version"].astype(str))
    return [
        version_entry(group, params, calibrations.get(str(v)), period, str(v), reveal=reveal)
        for v, group in rows.groupby("model_version", sort=True)
    ]


def version_entry(
    rows: pd.DataFrame,
    params: Params,
    calibration: Calibration | None,
    period: Period,
    version: str,
    *,
    reveal: bool,
) -> ValueEntry:
    """One version's entry on the rows it answered in the period."""
    import numpy as np

    scores = rows["score"].to_numpy(dtype=np.float64)
    y = outcomes(rows, params)
    known = ~np.isnan(y)
    entry = ValueEntry(
        model_name=params.mlflow.model_name, period=period.name, period_start=period.start,
        period_end=period.end, model_version=version, status=ESTIMATED, rows=len(rows),
        labelled_rows=int(known.sum()), contacted=contacted(len(rows), params.campaign),
        calibration="missing" if calibration is None else calibration.method,
        calibration_ece=None if calibration is None else calibration.ece_after,
        links=dict(period.links),
    )  # fmt: skip
    entry = _estimated(entry, scores, params, calibration)
    share = known.mean() if len(rows) else 0.0
    if not reveal:
        return entry
    if share < params.value.min_labelled_share:
        need = params.value.min_labelled_share
        note = (f"{int(known.sum())} of {len(rows)} rows labelled ({share:.0%}): below "
                f"value.min_labelled_share {need:.0%}, not realized yet")  # fmt: skip
        return _replace(entry, note=note if entry.note is None else f"{entry.note}; {note}")
    return with_errors(_realized(entry, rows[known], y[known], params))


def _estimated(
    entry: ValueEntry, scores: np.ndarray, params: Params, calibration: Calibration | None
) -> ValueEntry:
    """The estimate's fields, or "uncalibrated" with the reason when no number can be trusted."""
    if calibration is None or not calibration.usable:
        why = (f"no calibration of v{entry.model_version} on the holdout" if calibration is None
               else calibration.reason)  # fmt: skip
        return _replace(entry, status=UNCALIBRATED,
                        note=f"no estimate: {why} (a confident number would mislead)")  # fmt: skip
    v = params.value
    est = estimate(scores, calibration.apply(scores), params.campaign,
                   confidence=v.confidence, draws=v.draws, seed=v.seed)  # fmt: skip
    auc = est.roc_auc
    return _replace(
        entry,
        est_value_usd=est.value_usd.point, est_value_low=est.value_usd.low,
        est_value_high=est.value_usd.high, est_precision=est.precision.point,
        est_precision_low=est.precision.low, est_precision_high=est.precision.high,
        est_roc_auc=None if auc is None else auc.point,
        est_roc_auc_low=None if auc is None else auc.low,
        est_roc_auc_high=None if auc is None else auc.high,
    )  # fmt: skip


def _realized(entry: ValueEntry, rows: pd.DataFrame, y: np.ndarray, params: Params) -> ValueEntry:
    """Realized value, AUC and precision on the labelled rows, with the baselines."""
    import numpy as np

    from lifecycle.value.estimate import realized_roc_auc, top

    scores = rows["score"].to_numpy(dtype=np.float64)
    k = contacted(len(rows), params.campaign)
    prev_scores, prev_version = None, None
    if "shadow_score" in rows.columns and rows["shadow_score"].notna().all() and len(rows):
        prev_scores = rows["shadow_score"].to_numpy(dtype=np.float64)
        prev_version = str(rows["shadow_version"].iloc[-1]) if "shadow_version" in rows else None
    base = baselines(y, params.campaign, prev_scores, prev_version)
    return _replace(
        entry, status=REALIZED, labelled_rows=len(rows),
        value_usd=realized_value(y, scores, params.campaign),
        roc_auc=realized_roc_auc(y, scores),
        precision=float(y[top(scores, k)].mean()) if k else None,
        baseline_random_usd=base.random, baseline_previous_usd=base.previous,
        previous_version=base.previous_version,
        note=None if entry.status != UNCALIBRATED else entry.note,
    )  # fmt: skip


def _replace(entry: ValueEntry, **changes: object) -> ValueEntry:
    """dataclasses.replace, typed loosely for the many optional fields."""
    import dataclasses

    return dataclasses.replace(entry, **changes)  # type: ignore[arg-type]
