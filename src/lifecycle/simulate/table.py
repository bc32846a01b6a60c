"""The month-by-month table the command prints, as aligned plain text."""

from __future__ import annotations

from collections.abc import Sequence

from lifecycle.simulate.results import MonthResult

HEADER = ("month", "scenario", "rows", "served by", "verdict", "retrained", "promoted",
          "champion", "AUC", "profit USD", "cost USD", "seconds", "estimated USD",
          "realized USD", "net USD")  # fmt: skip


def table_row(m: MonthResult) -> tuple[str, ...]:
    """One month as the table's cells."""
    return (
        str(m.month), m.scenario or "-", str(m.rows), f"v{m.served_by}", m.verdict,
        "yes" if m.retrained else "no", "yes" if m.promoted else "no",
        f"v{m.champion}" if m.champion else "-",
        "-" if m.roc_auc is None else f"{m.roc_auc:.3f}",
        "-" if m.profit is None else f"{m.profit:,.0f}",
        usd(m.cost_usd), f"{m.seconds:.0f}", estimated(m), realized(m),
        "-" if m.net_usd is None else f"{m.net_usd:,.0f}",
    )  # fmt: skip


def estimated(m: MonthResult) -> str:
    """The estimate and its interval, or why there is none."""
    if m.estimated_usd is None:
        return "uncalibrated" if m.value_status == "uncalibrated" else "-"
    low, high = m.estimated_low, m.estimated_high
    band = "" if low is None or high is None else f" [{low:,.0f}, {high:,.0f}]"
    return f"{m.estimated_usd:,.0f}{band}"


def realized(m: MonthResult) -> str:
    """The realized value, waiting while outcomes lag, flagged when it contradicts the estimate."""
    if m.realized_usd is None:
        return "waiting" if m.value_status in ("estimated", "uncalibrated") else "-"
    return f"{m.realized_usd:,.0f}" + (" decay" if m.decay else "")


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
