"""The value report as aligned plain text: months, retrains, verdicts."""

from __future__ import annotations

from collections.abc import Sequence

from lifecycle.value.net import MonthNet, RetrainRoi, ValueReport

MONTH_HEADER = ("version", "month", "periods", "value USD", "basis", "cost USD", "net USD",
                "cumulative net", "ROI")  # fmt: skip
RETRAIN_HEADER = ("retrain started", "challenger", "replaced", "cost USD", "uplift/period",
                  "ROI", "payback periods", "basis")  # fmt: skip


def _money(x: float | None) -> str:
    """Dollars, cents below 1,000, or a dash."""
    if x is None:
        return "-"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.2f}"


def _ratio(x: float | None) -> str:
    """A ratio as a percentage, or a dash."""
    return "-" if x is None else f"{x:+.0%}"


def month_row(m: MonthNet) -> tuple[str, ...]:
    """One version-month as cells."""
    basis = "estimated" if m.estimated and not m.realized_usd else (
        "mixed" if m.estimated else ("realized" if m.periods else "-"))  # fmt: skip
    return (f"v{m.version}", m.month, str(m.periods), _money(m.realized_usd + m.estimated_usd),
            basis, _money(m.cost_usd), _money(m.net_usd), _money(m.cumulative_net_usd),
            _ratio(m.roi))  # fmt: skip


def retrain_row(r: RetrainRoi) -> tuple[str, ...]:
    """One retrain as cells."""
    return (r.started_at[:16], f"v{r.challenger}" if r.challenger else "-",
            f"v{r.replaced}" if r.replaced else "-", _money(r.cost_usd),
            _money(r.uplift_usd_per_period), _ratio(r.roi),
            "-" if r.payback_periods is None else f"{r.payback_periods:.2f}", r.basis)  # fmt: skip


def aligned(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Rows under a header, right-aligned, with a rule."""
    table = [tuple(header), *(tuple(r) for r in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_report(report: ValueReport) -> str:
    """The whole report: verdicts first (what a manager reads), then months and retrains."""
    if not report.months:
        return ("no value entries and no costs linked to a model version yet: value is "
                "recorded per scored period (`lifecycle simulate`, or `lifecycle ledger value "
                "--from-log`)")  # fmt: skip
    parts = ["\n".join(report.verdicts[v] for v in sorted(report.verdicts, key=_order)), "",
             aligned(MONTH_HEADER, [month_row(m) for m in report.months])]  # fmt: skip
    if report.retrains:
        parts += ["", aligned(RETRAIN_HEADER, [retrain_row(r) for r in report.retrains])]
    return "\n".join(parts)


def _order(version: str) -> tuple[int, str]:
    """Numeric version order."""
    return (int(version), "") if version.isdigit() else (1 << 30, version)
