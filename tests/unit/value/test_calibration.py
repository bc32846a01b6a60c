"""Calibration: a calibrated score passes, a distorted one is mapped back, too little is said."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.config import ValueParams
from lifecycle.value.calibration import Calibration, brier, ece, fit_calibration


def _case(n: int = 3000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.beta(1.2, 3.0, n)
    return (rng.random(n) < p).astype(float), p


def test_ece_of_exact_probabilities_is_zero_and_of_a_constant_gap_is_that_gap() -> None:
    y = np.array([0, 0, 1, 1] * 25, dtype=float)
    assert ece(y, np.full(100, 0.5), bins=1) == pytest.approx(0.0)
    assert ece(y, np.full(100, 0.7), bins=1) == pytest.approx(0.2)
    assert brier(y, np.full(100, 0.5)) == pytest.approx(0.25)


def test_calibrated_scores_are_used_as_they_are() -> None:
    y, p = _case()
    cal = fit_calibration(y, p, ValueParams())
    assert (cal.method, cal.usable) == ("none", True)
    assert np.array_equal(cal.apply(p), p)


def test_distorted_scores_are_calibrated_isotonically_and_checked_out_of_fold() -> None:
    y, p = _case()
    cal = fit_calibration(y, p**2, ValueParams())
    assert cal.method == "isotonic" and cal.usable
    assert cal.ece_before > 0.1 > 0.05 >= cal.ece_after
    assert ece(y, cal.apply(p**2)) < 0.05
    assert Calibration.from_dict(cal.to_dict()) == cal


def test_scores_that_cannot_be_calibrated_say_so() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(400) < 0.3).astype(float)
    noise = rng.random(400)  # unrelated to the outcome: nothing to map
    forced = fit_calibration(y, noise, ValueParams(calibration="none"))
    assert not forced.usable and "above value.max_ece" in forced.reason
    few = fit_calibration(y[:50], noise[:50], ValueParams())
    assert not few.usable and "value.min_calibration_rows 200" in few.reason
