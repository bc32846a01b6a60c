"""The monitor run's value artifact: the estimate with its interval, or why there is none."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from lifecycle.config import Params
from lifecycle.orchestration.value_artifacts import value_markdown
from lifecycle.paths import Paths
from lifecycle.value.store import ESTIMATED, UNCALIBRATED, ValueEntry
from lifecycle.value.window import estimate_window

WHEN = datetime(2026, 11, 3, tzinfo=UTC)


def _entry(version: str, status: str, **kw: float) -> ValueEntry:
    return ValueEntry(
        model_name="telco-churn", period="sim-month_01-none", period_start=WHEN, period_end=WHEN,
        model_version=version, status=status, rows=500, labelled_rows=0, contacted=100,
        calibration="isotonic", note=None if kw else "no estimate: holdout ECE 0.2", **kw,
    )  # type: ignore[arg-type]  # fmt: skip


def test_markdown_shows_each_versions_estimate_and_interval() -> None:
    found = [
        _entry(
            "1",
            ESTIMATED,
            est_value_usd=9120.4,
            est_value_low=8000.0,
            est_value_high=10250.0,
            est_roc_auc=0.8312,
            est_precision=0.61,
        ),
        _entry("2", UNCALIBRATED),
    ]
    text = value_markdown("sim-month_01-none", found, "1 window", "USD")
    assert "| v1 | 500 | 100 | 9,120 USD | [8,000, 10,250] | 0.831 | 0.610 | isotonic |" in text
    assert "| v2 | 500 | 100 | - | - | - | - | no estimate: holdout ECE 0.2 |" in text


def test_a_window_without_scores_gets_no_estimate_and_says_why(
    params: Params, tmp_path: Path
) -> None:
    paths = Paths(tmp_path)
    batch = tmp_path / "month_01.parquet"
    pd.DataFrame({"tenure": [1, 2]}).to_parquet(batch)
    found, note = estimate_window(params, paths, batch, {})
    assert found == [] and "no ['score', 'model_version'] columns" in note
    found, note = estimate_window(params, paths, tmp_path / "predictions", {})
    assert found == [] and "not a served window file" in note
