"""The shadow's comparison: agreement at the threshold, distributions, profit once labelled."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifecycle.comparison import compare_frame
from lifecycle.config import load_params


@pytest.fixture
def params() -> Any:
    """The project's params with a small labelled minimum."""
    p = load_params()
    return p.model_copy(
        update={"serving": p.serving.model_copy(update={"shadow_min_labelled": 50})}
    )


def test_report_agreement_distributions_and_profit(params: Any) -> None:
    """Agreement at the threshold, summaries, and profit once enough outcomes are known."""
    rng = np.random.default_rng(0)
    n = 400
    truth = rng.random(n) < 0.3
    good = np.clip(truth * 0.6 + rng.random(n) * 0.4, 0, 1)
    noise = rng.random(n)
    frame = pd.DataFrame({
        "request_id": [f"r{i}" for i in range(n)], "record": 0, "time": "2026-01-01T00:00:00",
        "model_version": "1", "score": noise, "shadow_version": "2", "shadow_score": good,
        "outcome": np.where(truth, "Yes", "No"),
    })  # fmt: skip
    [c] = compare_frame(params, frame)
    assert c.rows == n and c.labelled_rows == n
    expected = float(((noise >= 0.5) == (good >= 0.5)).mean())
    assert c.agreement == pytest.approx(expected)
    assert c.challenger.mean == pytest.approx(good.mean())
    assert c.challenger_profit > c.champion_profit and c.favours == "challenger"  # type: ignore[operator]
    unlabelled = frame.assign(outcome=None)
    [u] = compare_frame(params, unlabelled)
    assert u.favours == "undecided" and u.champion_profit is None
    assert compare_frame(params, frame.drop(columns=["shadow_score"])) == []
