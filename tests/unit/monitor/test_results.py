"""The champion's baseline read from the evaluate stage's metrics file."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lifecycle.monitor.errors import MonitorError
from lifecycle.monitor.results import PerformanceBaseline


def test_baseline_from_the_evaluate_metrics_file(tmp_path: Any) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(
        json.dumps(
            {
                "challenger_holdout": {"roc_auc": 0.7, "profit_per_customer": 1.0},
                "holdout": {"roc_auc": 0.84, "profit_per_customer": 9.5},
            },
            sort_keys=True,
        )
    )
    assert PerformanceBaseline.from_metrics_file(path) == PerformanceBaseline(0.84, 9.5)
    path.write_text(json.dumps({"rows": 3}))
    with pytest.raises(MonitorError, match="no numeric 'roc_auc'"):
        PerformanceBaseline.from_metrics_file(path)
    with pytest.raises(MonitorError, match="does not exist"):
        PerformanceBaseline.from_metrics_file(tmp_path / "none.json")
