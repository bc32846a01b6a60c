"""The month-by-month table the command prints, as aligned plain text."""

from __future__ import annotations

from collections.abc import Sequence

from lifecycle.simulate.results import MonthResult

HEADER = ("month", "scenario", "rows", "served by", "verdict", "retrained", "promoted",
          "champion", "AUC", "profit USD", "cost USD", "seconds")  # fmt: skip


def table_row(m: MonthResult) -> tuple[str, ...]:
    """One month as the table's cells."""
    return (
        str(m.month), m.scenario or "-", str(m.rows), f"v{m.served_by}", m.verdict,
        "yes" if m.retrained else "no", "yes" if m.promoted else "no",
        f"v{m.champion}" if m.champion else "-",
        "-" if m.roc_auc is None else f"{m.roc_auc:.3f}",
        "-" if m.profit is None else f"{m.profit:,.0f}",
        usd(m.cost_usd), f"{m.seconds:.0f}",
    )  # fmt: skip


def usd(amount: float) -> str:
    """Dollars with cents, or to the micro-dollar below a dollar (a short monitor run's compute)."""
    return f"{amount:,.2f}" if amount >= 1 else f"{amount:.6f}"


def render_table(months: Sequence[MonthResult]) -> str:
    """The month-by-month table as aligned plain text."""
    rows = [HEADER, *(table_row(m) for m in months)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
