"""Drift of one numeric or categorical column, and of the model's scores, with reasons."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifecycle.config import DriftParams
from lifecycle.monitor.results import FeatureDrift, ScoreDrift
from lifecycle.monitor.stats import (
    FloatArray,
    category_counts,
    chi2_test,
    ks_test,
    numeric_psi,
    psi_from_counts,
)


def _as_float(series: pd.Series) -> FloatArray:
    """A numeric column as float64 (non-numbers become missing, counted by the missing rate)."""
    return np.asarray(pd.to_numeric(series, errors="coerce"), dtype=float)


def numeric_drift(
    column: str, reference: pd.Series, current: pd.Series, drift: DriftParams
) -> FeatureDrift:
    """KS and PSI of one numeric column, plus its missing rate; the deciding test per params."""
    ref_all, cur_all = _as_float(reference), _as_float(current)
    ref, cur = ref_all[np.isfinite(ref_all)], cur_all[np.isfinite(cur_all)]
    miss_ref = 1.0 - ref.size / ref_all.size if ref_all.size else 0.0
    miss_cur = 1.0 - cur.size / cur_all.size if cur_all.size else 0.0
    base = {
        "column": column,
        "kind": "numeric",
        "test": drift.numeric_test,
        "reference_rows": int(ref.size),
        "current_rows": int(cur.size),
        "missing_reference": miss_ref,
        "missing_current": miss_cur,
    }
    small = _too_small(column, ref.size, cur.size, drift.min_rows)
    if small:
        return FeatureDrift(drifted=None, reasons=(small,), **base)  # type: ignore[arg-type]
    psi = numeric_psi(ref, cur, drift.psi_bins, drift.psi_epsilon)
    ks_stat, ks_p = ks_test(ref, cur)
    reasons: list[str] = []
    if drift.numeric_test == "ks" and ks_p < drift.ks_pvalue:
        reasons.append(
            f"{column}: KS p-value {ks_p:.3g} < {drift.ks_pvalue} (statistic {ks_stat:.3f}, "
            f"PSI {psi:.3f})"
        )
    if drift.numeric_test == "psi" and psi >= drift.psi_threshold:
        reasons.append(f"{column}: PSI {psi:.3f} >= {drift.psi_threshold}")
    reasons += _missing_reason(column, miss_ref, miss_cur, drift)
    return FeatureDrift(
        drifted=bool(reasons),
        psi=psi,
        ks_statistic=ks_stat,
        ks_pvalue=ks_p,
        reasons=tuple(reasons),
        **base,  # type: ignore[arg-type]
    )


def categorical_drift(
    column: str, reference: pd.Series, current: pd.Series, drift: DriftParams
) -> FeatureDrift:
    """Chi-square and PSI of one categorical column, plus missing and unseen-category rates."""
    ref_ok, cur_ok = reference.dropna(), current.dropna()
    miss_ref = 1.0 - len(ref_ok) / len(reference) if len(reference) else 0.0
    miss_cur = 1.0 - len(cur_ok) / len(current) if len(current) else 0.0
    base = {
        "column": column,
        "kind": "categorical",
        "test": drift.categorical_test,
        "reference_rows": len(ref_ok),
        "current_rows": len(cur_ok),
        "missing_reference": miss_ref,
        "missing_current": miss_cur,
    }
    small = _too_small(column, len(ref_ok), len(cur_ok), drift.min_rows)
    if small:
        return FeatureDrift(drifted=None, reasons=(small,), **base)  # type: ignore[arg-type]
    keys, ref_counts, cur_counts = category_counts(ref_ok, cur_ok)
    unseen_mask = ref_counts == 0
    unseen_share = float(cur_counts[unseen_mask].sum() / cur_counts.sum())
    unseen_values = tuple(k for k, u in zip(keys, unseen_mask, strict=True) if u)
    psi = psi_from_counts(ref_counts, cur_counts, drift.psi_epsilon)
    chi_stat, chi_p = chi2_test(ref_counts, cur_counts)
    reasons: list[str] = []
    if drift.categorical_test == "chi2" and chi_p < drift.chi2_pvalue:
        reasons.append(
            f"{column}: chi-square p-value {chi_p:.3g} < {drift.chi2_pvalue} "
            f"(statistic {chi_stat:.1f}, PSI {psi:.3f})"
        )
    if drift.categorical_test == "psi" and psi >= drift.psi_threshold:
        reasons.append(f"{column}: PSI {psi:.3f} >= {drift.psi_threshold}")
    if unseen_share > drift.max_unseen_share:
        shown = ", ".join(repr(v) for v in unseen_values[:5])
        reasons.append(
            f"{column}: {unseen_share:.1%} of rows have categories never seen in training "
            f"({shown}) > {drift.max_unseen_share:.1%}"
        )
    reasons += _missing_reason(column, miss_ref, miss_cur, drift)
    return FeatureDrift(
        drifted=bool(reasons),
        psi=psi,
        chi2_statistic=chi_stat,
        chi2_pvalue=chi_p,
        unseen_share=unseen_share,
        unseen_values=unseen_values,
        reasons=tuple(reasons),
        **base,  # type: ignore[arg-type]
    )


def _too_small(column: str, n_ref: int, n_cur: int, min_rows: int) -> str | None:
    """The 'too small' reason when either side has fewer non-missing rows than a test needs."""
    if n_cur < min_rows:
        return (
            f"{column}: window too small for a test: {n_cur} non-missing rows, "
            f"drift.min_rows is {min_rows}"
        )
    if n_ref < min_rows:
        return (
            f"{column}: reference too small for a test: {n_ref} non-missing rows, "
            f"drift.min_rows is {min_rows}"
        )
    return None


def _missing_reason(column: str, miss_ref: float, miss_cur: float, drift: DriftParams) -> list[str]:
    """A reason when the missing share rose by more than the params allow."""
    if miss_cur - miss_ref > drift.max_missing_increase:
        return [
            f"{column}: missing share rose from {miss_ref:.1%} to {miss_cur:.1%} "
            f"(limit +{drift.max_missing_increase:.1%})"
        ]
    return []


def score_drift(reference_scores: Any, current_scores: Any, drift: DriftParams) -> ScoreDrift:
    """PSI and KS of the model's scores; PSI against drift.score_psi_threshold decides."""
    ref = np.asarray(reference_scores, dtype=float)
    cur = np.asarray(current_scores, dtype=float)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    small = _too_small("score", ref.size, cur.size, drift.min_rows)
    if small:
        return ScoreDrift(int(ref.size), int(cur.size), None, reasons=(small,))
    psi = numeric_psi(ref, cur, drift.psi_bins, drift.psi_epsilon)
    ks_stat, ks_p = ks_test(ref, cur)
    drifted = psi >= drift.score_psi_threshold
    reasons = (
        (f"scores: PSI {psi:.3f} >= {drift.score_psi_threshold} (KS {ks_stat:.3f})",)
        if drifted
        else ()
    )
    return ScoreDrift(int(ref.size), int(cur.size), drifted, psi, ks_stat, ks_p, reasons)
