"""Windows read from files and folders: parquet, JSON lines, tiny floats, bad input named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from lifecycle.config import Params
from lifecycle.monitor.errors import MonitorError
from lifecycle.monitor.windows import load_reference, load_window


def test_a_subnormal_float_keeps_its_value(tmp_path: Path) -> None:
    path = tmp_path / "window.jsonl"
    rows = [{"tenure": 1e-310, "contract": "month"}, {"tenure": 12.0, "contract": "year"}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    frame = load_window(path)
    assert frame["tenure"].tolist() == [1e-310, 12.0]
    assert frame["contract"].tolist() == ["month", "year"]


def test_a_line_that_is_not_json_is_named(tmp_path: Path) -> None:
    path = tmp_path / "window.jsonl"
    path.write_text('{"tenure": 1}\n{"tenure": oops}\n')
    with pytest.raises(MonitorError, match=r"is not JSON lines: line 2"):
        load_window(path)


def test_missing_reference_and_window_files(tmp_path: Any) -> None:
    with pytest.raises(MonitorError, match=r"reference: file .* does not exist"):
        load_reference(tmp_path / "nope.parquet")
    with pytest.raises(MonitorError, match=r"window: .* does not exist"):
        load_window(tmp_path / "nope")
    (tmp_path / "log").mkdir()
    with pytest.raises(MonitorError, match="holds no"):
        load_window(tmp_path / "log")
    (tmp_path / "x.csv").write_text("a\n1\n")
    with pytest.raises(MonitorError, match=r"suffix '\.csv'"):
        load_window(tmp_path / "x.csv")
    (tmp_path / "log" / "empty.jsonl").write_text("")
    with pytest.raises(MonitorError, match="has no rows"):
        load_window(tmp_path / "log")


def test_prediction_log_folder_of_jsonl_and_parquet(
    params: Params, batch: pd.DataFrame, tmp_path: Any
) -> None:
    log = tmp_path / "predictions"
    (log / "day=2026-01-01").mkdir(parents=True)
    (log / "day=2026-01-02").mkdir(parents=True)
    rows = batch.assign(request_id=range(len(batch)), score=0.3, model_version="1")
    half = len(rows) // 2
    rows.iloc[:half].to_json(log / "day=2026-01-01" / "part.jsonl", orient="records", lines=True)
    rows.iloc[half:].to_parquet(log / "day=2026-01-02" / "part.parquet")
    frame = load_window(log)
    assert len(frame) == len(batch)
    assert set(params.data.features) <= set(frame.columns)
