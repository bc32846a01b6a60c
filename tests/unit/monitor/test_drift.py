"""Each column's and the scores' drift verdict on constructed data where the answer is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle.config import DriftParams
from lifecycle.monitor.drift import categorical_drift, numeric_drift, score_drift

DRIFT = DriftParams()


def test_identical_numeric_column_does_not_drift() -> None:
    s = pd.Series(np.linspace(0, 100, 500))
    result = numeric_drift("x", s, s.copy(), DRIFT)
    assert result.drifted is False
    assert result.psi == 0.0
    assert result.ks_pvalue == 1.0
    assert result.reasons == ()


def test_rising_missing_share_is_drift_with_the_column_named() -> None:
    ref = pd.Series(np.arange(400.0))
    cur = ref.copy()
    cur.iloc[::5] = np.nan  # 20% missing, 0% before
    result = numeric_drift("x", ref, cur, DRIFT)
    assert result.missing_current == pytest.approx(0.2)
    assert result.drifted is True
    assert any("x: missing share rose" in r for r in result.reasons)


def test_psi_can_be_the_deciding_test() -> None:
    rng = np.random.default_rng(1)
    ref = pd.Series(rng.normal(0, 1, 5000))
    tiny_shift = pd.Series(rng.normal(0.08, 1, 5000))  # KS notices, PSI does not
    ks_result = numeric_drift("x", ref, tiny_shift, DRIFT)
    psi_result = numeric_drift("x", ref, tiny_shift, DriftParams(numeric_test="psi"))
    assert ks_result.drifted is True
    assert psi_result.drifted is False
    assert psi_result.test == "psi"


def test_a_window_too_small_says_so_instead_of_a_verdict() -> None:
    ref = pd.Series(np.arange(100.0))
    result = numeric_drift("x", ref, ref.iloc[:5], DRIFT)
    assert result.drifted is None
    assert result.psi is None
    assert "window too small" in result.reasons[0]
    assert "drift.min_rows is 30" in result.reasons[0]
    cat = categorical_drift("c", pd.Series(["a"] * 10), pd.Series(["a"] * 50), DRIFT)
    assert cat.drifted is None
    assert "reference too small" in cat.reasons[0]


def test_unseen_categories_are_counted_and_named() -> None:
    ref = pd.Series(["a", "b"] * 200)
    cur = pd.Series(["a", "b", "a", "z"] * 50)
    result = categorical_drift("c", ref, cur, DRIFT)
    assert result.unseen_share == pytest.approx(0.25)
    assert result.unseen_values == ("z",)
    assert result.drifted is True
    assert any("never seen in training" in r and "'z'" in r for r in result.reasons)


def test_identical_categorical_column_does_not_drift() -> None:
    s = pd.Series(["a", "b", "b", None] * 100)
    result = categorical_drift("c", s, s.copy(), DRIFT)
    assert result.drifted is False
    assert result.chi2_pvalue == 1.0
    assert result.missing_current == pytest.approx(0.25)
    assert result.unseen_share == 0.0


def test_score_drift() -> None:
    rng = np.random.default_rng(2)
    ref = rng.beta(2, 5, 3000)
    assert score_drift(ref, rng.beta(2, 5, 3000), DRIFT).drifted is False
    moved = score_drift(ref, rng.beta(5, 2, 3000), DRIFT)
    assert moved.drifted is True
    assert moved.psi is not None
    assert moved.psi > DRIFT.score_psi_threshold
    assert score_drift(ref, ref[:3], DRIFT).drifted is None
