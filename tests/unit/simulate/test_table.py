"""The month-by-month table: one aligned row per month, small costs to the micro-dollar."""

from __future__ import annotations

from lifecycle.simulate.results import MonthResult
from lifecycle.simulate.table import render_table


def _month(month: int, verdict: str, retrained: bool, champion: str) -> MonthResult:
    return MonthResult(
        month, None, 528, "1", verdict, retrained, retrained, champion, 0.8312, 9540.0, 256.1,
        12.0, f"sim-month_{month:02d}-none", (),
    )  # fmt: skip


def test_table_has_one_aligned_row_per_month() -> None:
    from dataclasses import replace

    calm = replace(_month(1, "ok", False, "1"), cost_usd=0.000067)
    text = render_table([calm, _month(2, "decay", True, "2")])
    assert "0.000067" in text
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["month", "scenario", "rows"]
    assert set(lines[1]) <= {"-", " "}
    assert len({len(ln) for ln in lines}) == 1
    assert lines[3].split() == ["2", "-", "528", "v1", "decay", "yes", "yes", "v2", "0.831",
                                "9,540", "256.10", "12"]  # fmt: skip
