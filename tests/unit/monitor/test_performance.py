"""Performance of a labelled window and where its outcomes are read from."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle.config import Params
from lifecycle.monitor.performance import label_array, performance


def test_campaign_profit_of_a_perfect_ranking(params: Params) -> None:
    y = np.array([1] * 20 + [0] * 80)
    s = np.linspace(1, 0, 100)
    result = performance(y, s, params.campaign, params.drift)
    c = params.campaign
    expected = 20 * c.acceptance_rate * c.retained_value - 20 * c.contact_cost
    assert result.roc_auc == 1.0
    assert result.profit == pytest.approx(expected)
    assert result.decayed is None  # no baseline: no judgement
    assert "no champion baseline" in result.reasons[0]


def test_performance_needs_both_classes_and_enough_rows(params: Params) -> None:
    one_class = performance(np.ones(100), np.linspace(0, 1, 100), params.campaign, params.drift)
    assert one_class.decayed is None
    assert "one class" in one_class.reasons[0]
    few = performance(np.array([0, 1]), np.array([0.1, 0.9]), params.campaign, params.drift)
    assert few.decayed is None
    assert "min_rows" in few.reasons[0]


def test_labels_from_strings_numbers_and_gaps(params: Params) -> None:
    data = params.data
    frame = pd.DataFrame({"label": ["Yes", "No", None, "Yes"]})
    assert np.array_equal(label_array(frame, data), [1.0, 0.0, np.nan, 1.0], equal_nan=True)
    numeric = pd.DataFrame({data.target: [1, 0, 1]})
    assert label_array(numeric, data).tolist() == [1.0, 0.0, 1.0]  # type: ignore[union-attr]
    assert label_array(pd.DataFrame({"x": [1]}), data) is None
