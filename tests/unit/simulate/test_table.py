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
                                "9,540", "256.10", "12", "-", "-", "-"]  # fmt: skip


def test_value_columns_show_the_estimate_then_the_realized_value_and_the_net() -> None:
    from dataclasses import replace

    waiting = replace(_month(1, "ok", False, "1"), value_status="estimated", estimated_usd=9000.0,
                      estimated_low=8000.0, estimated_high=10000.0)  # fmt: skip
    late = replace(waiting, month=2, value_status="realized", realized_usd=6000.0, decay=True)
    lines = render_table([waiting, late]).splitlines()
    assert lines[0].split()[-6:] == ["estimated", "USD", "realized", "USD", "net", "USD"]
    assert lines[2].split()[-5:] == ["9,000", "[8,000,", "10,000]", "waiting", "8,744"]
    assert lines[3].split()[-5:] == ["[8,000,", "10,000]", "6,000", "decay", "5,744"]
