"""Windows read from JSON lines: tiny floats keep their value; a line that is not JSON is named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lifecycle.monitor import MonitorError, load_window


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
