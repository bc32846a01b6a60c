"""Value entries in the ledger database: one row per model, period and version, written once.

The key (`value:<model>:<period>:v<version>`) makes every write idempotent: posting a period's
outcomes twice rewrites the same row from the same de-duplicated outcomes, never adds to it.
An estimate written before outcomes is kept when the realized figures replace it, and the gap
between the two is stored (the estimator's track record); a realized row is never downgraded
back to an estimate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from lifecycle.ledger.models import LINK_FIELDS, utc_naive
from lifecycle.ledger.session import get_engine, writing
from lifecycle.ledger.tables import value_table

ESTIMATED, REALIZED, UNCALIBRATED = "estimated", "realized", "uncalibrated"
ESTIMATE_FIELDS = ("est_value_usd", "est_value_low", "est_value_high", "est_roc_auc",
                   "est_roc_auc_low", "est_roc_auc_high", "est_precision", "est_precision_low",
                   "est_precision_high")  # fmt: skip


@dataclass(frozen=True)
class ValueEntry:
    """What one model version earned (or is expected to earn) in one period."""

    model_name: str
    period: str
    period_start: datetime
    period_end: datetime
    model_version: str
    status: str
    rows: int
    labelled_rows: int
    contacted: int
    calibration: str
    est_value_usd: float | None = None
    est_value_low: float | None = None
    est_value_high: float | None = None
    est_roc_auc: float | None = None
    est_roc_auc_low: float | None = None
    est_roc_auc_high: float | None = None
    est_precision: float | None = None
    est_precision_low: float | None = None
    est_precision_high: float | None = None
    value_usd: float | None = None
    roc_auc: float | None = None
    precision: float | None = None
    baseline_random_usd: float | None = None
    baseline_previous_usd: float | None = None
    previous_version: str | None = None
    value_error_usd: float | None = None
    roc_auc_error: float | None = None
    calibration_ece: float | None = None
    decay: bool = False
    links: dict[str, str | None] = field(default_factory=dict)
    note: str | None = None

    @property
    def key(self) -> str:
        """One row per model, period and version."""
        return f"value:{self.model_name}:{self.period}:v{self.model_version}"

    @property
    def month(self) -> str:
        """The calendar month the period started in (YYYY-MM)."""
        return utc_naive(self.period_start).strftime("%Y-%m")

    @property
    def best_usd(self) -> float | None:
        """Realized value when known, else the estimate (None when neither exists)."""
        return self.value_usd if self.status == REALIZED else self.est_value_usd


def _row(entry: ValueEntry) -> dict[str, Any]:
    """The table row of an entry."""
    raw = dataclasses.asdict(entry)
    links = raw.pop("links")
    raw.update(
        key=entry.key,
        month=entry.month,
        period_start=utc_naive(entry.period_start),
        period_end=utc_naive(entry.period_end),
        decay=int(entry.decay),
        recorded_at=utc_naive(datetime.now(UTC)),
        **{name: links.get(name) for name in LINK_FIELDS},
    )
    raw["model_version"] = entry.model_version  # a link column, and the entry's own version
    return raw


def _entry(row: Any) -> ValueEntry:
    """An entry from a table row."""
    data = dict(row._mapping)
    links = {n: data[n] if n == "model_version" else data.pop(n) for n in LINK_FIELDS}
    for gone in ("key", "month", "recorded_at"):
        data.pop(gone)
    data["decay"] = bool(data["decay"])
    return ValueEntry(**data, links=links)


def merge(old: ValueEntry | None, new: ValueEntry) -> ValueEntry:
    """What a write leaves: realized keeps the earlier estimate and records the gap to it."""
    if old is None:
        return new
    links: dict[str, str | None] = {k: v for k, v in old.links.items() if v is not None}
    links |= {k: v for k, v in new.links.items() if v}
    new = dataclasses.replace(new, links=links)
    if old.status == REALIZED and new.status != REALIZED:
        return old
    if new.status != REALIZED or old.est_value_usd is None:
        return new
    kept = {name: getattr(old, name) for name in ESTIMATE_FIELDS}
    merged = dataclasses.replace(new, **kept, calibration=old.calibration,
                                 calibration_ece=old.calibration_ece)  # fmt: skip
    return with_errors(merged)


def with_errors(entry: ValueEntry) -> ValueEntry:
    """The estimate's error against the realized figures, and decay when outside its interval."""
    if entry.value_usd is None or entry.est_value_usd is None:
        return entry
    auc_err = None
    if entry.roc_auc is not None and entry.est_roc_auc is not None:
        auc_err = entry.roc_auc - entry.est_roc_auc
    low, high = entry.est_value_low, entry.est_value_high
    outside = low is not None and high is not None and not low <= entry.value_usd <= high
    note = entry.note
    if outside:
        note = (f"decay: realized {entry.value_usd:,.0f} USD is outside the estimate "
                f"{entry.est_value_usd:,.0f} USD [{low:,.0f}, {high:,.0f}] made before outcomes: "
                "the relation between inputs and outcome may have changed")  # fmt: skip
    return dataclasses.replace(entry, value_error_usd=entry.value_usd - entry.est_value_usd,
                               roc_auc_error=auc_err, decay=outside, note=note)  # fmt: skip


def record(entry: ValueEntry, url: str | None = None) -> ValueEntry:
    """Write an entry (merged with the stored one of the same key) in one transaction."""
    table = value_table()
    with writing(url) as conn:
        found = conn.execute(select(table).where(table.c.key == entry.key)).first()
        final = merge(None if found is None else _entry(found), entry)
        conn.execute(table.delete().where(table.c.key == entry.key))
        conn.execute(table.insert().values(**_row(final)))
    return final


def entries(
    url: str | None = None, *, model_name: str | None = None, version: str | None = None
) -> Iterator[ValueEntry]:
    """Stored value entries, oldest period first."""
    table = value_table()
    query = select(table).order_by(table.c.period_start, table.c.model_version)
    if model_name is not None:
        query = query.where(table.c.model_name == model_name)
    if version is not None:
        query = query.where(table.c.model_version == version)
    with get_engine(url).connect() as conn:
        for row in conn.execute(query):
            yield _entry(row)
