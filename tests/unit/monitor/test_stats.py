"""Each statistic on constructed data where the answer is known."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from lifecycle.monitor.errors import MonitorError
from lifecycle.monitor.stats import (
    binned_counts,
    category_counts,
    chi2_test,
    ks_test,
    numeric_psi,
    psi_from_counts,
    quantile_edges,
)


def test_psi_matches_the_formula() -> None:
    p, q = np.array([50, 50]), np.array([25, 75])
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert psi_from_counts(p, q, 1e-4) == pytest.approx(expected)


def test_psi_of_identical_shares_is_zero_and_empty_bins_stay_finite() -> None:
    assert psi_from_counts(np.array([10, 30, 0]), np.array([20, 60, 0]), 1e-4) == 0.0
    value = psi_from_counts(np.array([10, 0]), np.array([5, 5]), 1e-4)
    floor = 1e-4
    assert value == pytest.approx(
        (0.5 - 1.0) * math.log(0.5) + (0.5 - floor) * math.log(0.5 / floor)
    )


def test_psi_refuses_an_empty_side() -> None:
    with pytest.raises(MonitorError, match="at least one value"):
        psi_from_counts(np.array([0, 0]), np.array([1, 2]), 1e-4)


def test_quantile_edges_split_the_reference_evenly() -> None:
    ref = np.arange(1000, dtype=float)
    edges = quantile_edges(ref, 10)
    assert edges.size == 9
    assert binned_counts(ref, edges).tolist() == [100] * 10


def test_quantile_edges_merge_ties_of_a_binary_column() -> None:
    ref = np.array([0.0] * 70 + [1.0] * 30)
    counts = binned_counts(ref, quantile_edges(ref, 10))
    assert counts.sum() == 100
    assert sorted(c for c in counts.tolist() if c) == [30, 70]


def test_numeric_psi_sees_a_shift_and_not_a_resample() -> None:
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 1, 20_000)
    assert numeric_psi(ref, rng.normal(0, 1, 20_000), 10, 1e-4) < 0.01
    assert numeric_psi(ref, rng.normal(1, 1, 20_000), 10, 1e-4) > 0.5


def test_ks_statistic_on_separated_samples() -> None:
    stat, p = ks_test(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0]))
    assert stat == 1.0
    assert p < 0.2
    same_stat, same_p = ks_test(np.arange(50.0), np.arange(50.0))
    assert (same_stat, same_p) == (0.0, 1.0)


def test_chi2_matches_the_hand_computation() -> None:
    stat, p = chi2_test(np.array([10, 20]), np.array([20, 10]))
    assert stat == pytest.approx(4 * (5**2) / 15)
    assert p == pytest.approx(math.erfc(math.sqrt(stat / 2)))  # chi-square, 1 dof


def test_chi2_with_one_category_has_nothing_to_test() -> None:
    assert chi2_test(np.array([10, 0]), np.array([7, 0])) == (0.0, 1.0)


def test_category_counts_align_on_the_union() -> None:
    keys, ref, cur = category_counts(pd.Series(["a", "b", "a"]), pd.Series(["b", "c"]))
    assert dict(zip(keys, ref.tolist(), strict=True)) == {"a": 2, "b": 1, "c": 0}
    assert dict(zip(keys, cur.tolist(), strict=True)) == {"a": 0, "b": 1, "c": 1}
    assert keys[-1] == "c"


def test_large_sample_ks_matches_scipy() -> None:
    from scipy import stats

    rng = np.random.default_rng(4)
    ref, cur = rng.normal(0, 1, 30_000), rng.normal(0.02, 1, 25_000)
    expected = stats.ks_2samp(ref, cur)
    stat, p = ks_test(ref, cur)
    assert stat == pytest.approx(float(expected.statistic), abs=1e-12)
    assert p == pytest.approx(float(expected.pvalue), abs=2e-3)
