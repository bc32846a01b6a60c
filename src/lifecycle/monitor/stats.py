"""Drift statistics on arrays: quantile bins, PSI, two-sample KS and chi-square (numpy, scipy)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from lifecycle.monitor.errors import MonitorError

if TYPE_CHECKING:
    import pandas as pd

FloatArray = npt.NDArray[np.float64]

KS_EXACT_LIMIT = 10_000  # effective rows n*m/(n+m) up to which the KS p-value is exact


def quantile_edges(reference: FloatArray, bins: int) -> FloatArray:
    """Interior cut points at the reference's quantiles (ties merged), so each bin holds ~1/bins."""
    if reference.size == 0:
        return np.empty(0, dtype=float)
    cuts = np.quantile(reference, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    return np.unique(cuts).astype(float)


def binned_counts(values: FloatArray, edges: FloatArray) -> npt.NDArray[np.int64]:
    """Counts of values per bin given interior edges (len(edges) + 1 bins)."""
    idx = np.searchsorted(edges, values, side="right")
    return np.bincount(idx, minlength=edges.size + 1).astype(np.int64)


def psi_from_counts(
    reference_counts: npt.NDArray[Any], current_counts: npt.NDArray[Any], epsilon: float
) -> float:
    """Population stability index of two aligned count vectors, shares floored at epsilon."""
    ref = np.asarray(reference_counts, dtype=float)
    cur = np.asarray(current_counts, dtype=float)
    if ref.sum() == 0 or cur.sum() == 0:
        raise MonitorError("PSI needs at least one value on each side")
    p = np.maximum(ref / ref.sum(), epsilon)
    q = np.maximum(cur / cur.sum(), epsilon)
    return float(np.sum((q - p) * np.log(q / p)))


def numeric_psi(reference: FloatArray, current: FloatArray, bins: int, epsilon: float) -> float:
    """PSI of a numeric column with bins from the reference's quantiles."""
    edges = quantile_edges(reference, bins)
    return psi_from_counts(binned_counts(reference, edges), binned_counts(current, edges), epsilon)


def ks_statistic(reference: FloatArray, current: FloatArray) -> float:
    """The largest gap between the two empirical CDFs (sorted arrays, no per-row Python)."""
    a, b = np.sort(reference), np.sort(current)
    both = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, both, side="right") / a.size
    cdf_b = np.searchsorted(b, both, side="right") / b.size
    return float(np.max(np.abs(cdf_a - cdf_b)))


def ks_test(reference: FloatArray, current: FloatArray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value.

    Up to KS_EXACT_LIMIT effective rows this is scipy's ks_2samp; above it, scipy's exact
    Smirnov distribution costs 0.1-0.5 s per column for small p-values, so the p-value comes
    from the limiting Kolmogorov distribution with Stephens' correction (within 1e-5 of the
    exact value at p = 0.05 for 50,000 effective rows).
    """
    from scipy import stats

    en = reference.size * current.size / (reference.size + current.size)
    if en <= KS_EXACT_LIMIT:
        res = stats.ks_2samp(reference, current)
        return float(res.statistic), float(res.pvalue)
    d = ks_statistic(reference, current)
    root = float(np.sqrt(en))
    return d, float(stats.kstwobign.sf((root + 0.12 + 0.11 / root) * d))


def chi2_test(
    reference_counts: npt.NDArray[Any], current_counts: npt.NDArray[Any]
) -> tuple[float, float]:
    """Chi-square test of homogeneity on the 2 x K contingency table of category counts."""
    from scipy import stats

    table = np.vstack([reference_counts, current_counts]).astype(float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    res = stats.chi2_contingency(table, correction=False)
    return float(res.statistic), float(res.pvalue)


def category_counts(
    reference: pd.Series, current: pd.Series
) -> tuple[list[str], npt.NDArray[Any], npt.NDArray[Any]]:
    """Counts per category over the union of both sides' categories (reference's first)."""
    ref_vc = reference.astype(str).value_counts(sort=False)
    cur_vc = current.astype(str).value_counts(sort=False)
    keys = [str(k) for k in ref_vc.index]
    keys += sorted(str(k) for k in cur_vc.index if k not in ref_vc.index)
    ref = ref_vc.reindex(keys, fill_value=0).to_numpy(dtype=np.int64)
    cur = cur_vc.reindex(keys, fill_value=0).to_numpy(dtype=np.int64)
    return keys, ref, cur
