"""How many times a cron schedule fires in a calendar month (the forecast's expected run count)."""

from __future__ import annotations

import calendar
from datetime import date

from lifecycle.ledger.pricing import LedgerError

# minute, hour, day of month, month, day of week (0 or 7 = Sunday)
_BOUNDS = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def _field(text: str, low: int, high: int, expr: str) -> set[int]:
    """The values one cron field allows: '*', 'a', 'a-b', lists and '/step'."""
    out: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if base == "*":
                first, last = low, high
            elif "-" in base:
                a, b = base.split("-", 1)
                first, last = int(a), int(b)
            else:
                first = int(base)
                last = high if step_text else first
        except ValueError:
            raise LedgerError(f"cron {expr!r}: cannot read field {text!r}") from None
        if step < 1 or not low <= first <= last <= high:
            raise LedgerError(f"cron {expr!r}: field {text!r} is outside {low}-{high}")
        out.update(range(first, last + 1, step))
    return out


def runs_in_month(expr: str, year: int, month: int) -> int:
    """Times a five-field cron fires in the month (day of month OR day of week, as cron does)."""
    fields = expr.split()
    if len(fields) != 5:
        raise LedgerError(f"cron {expr!r}: five fields expected (minute hour day month weekday)")
    minutes, hours, doms, months, dows = (
        _field(f, lo, hi, expr) for f, (lo, hi) in zip(fields, _BOUNDS, strict=True)
    )
    if month not in months:
        return 0
    dows = {d % 7 for d in dows}
    dom_any, dow_any = fields[2] == "*", fields[4] == "*"
    days = 0
    for day in range(1, calendar.monthrange(year, month)[1] + 1):
        weekday = (date(year, month, day).weekday() + 1) % 7  # cron: Sunday = 0
        in_dom, in_dow = day in doms, weekday in dows
        if dom_any or dow_any:
            days += in_dom and in_dow
        else:
            days += in_dom or in_dow
    return days * len(hours) * len(minutes)
