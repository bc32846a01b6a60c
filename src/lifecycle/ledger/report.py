"""Read the ledger back: filtered entries, totals by phase and flow, TCO per model version."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from lifecycle.ledger.models import LINK_FIELDS, PLATFORM_PREFIX
from lifecycle.ledger.pricing import KINDS, LedgerError, check_choice, phases
from lifecycle.ledger.session import get_engine
from lifecycle.ledger.tables import tables

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy import ColumnElement

USE_CASE_NAME = r"[a-z0-9][a-z0-9_-]{0,39}"  # as `lifecycle new` names them
PIPE_WIDTH = 200  # columns of a table written to a pipe or a file (a terminal keeps its own)

EXPORT_COLUMNS = (
    "key",
    "parent_key",
    "use_case",
    "kind",
    "name",
    "phase",
    "trigger",
    "status",
    "started_at",
    "ended_at",
    "wall_seconds",
    "cpu_seconds",
    "peak_memory_bytes",
    "gpu_seconds",
    "storage_bytes",
    "predictions",
    *LINK_FIELDS,
    "compute_usd",
    "staff_usd",
    "total_usd",
)


@dataclass(frozen=True)
class Filters:
    """Which entries a report covers; empty fields do not filter."""

    since: date | None = None
    until: date | None = None
    name: str | None = None
    phase: str | None = None
    model_version: str | None = None
    kind: str | None = None
    use_case: str | None = None

    def __post_init__(self) -> None:
        """Refuse an unknown phase or kind, or a period that ends before it starts."""
        if self.phase is not None:
            check_choice("phase", self.phase, phases())
        if self.kind is not None:
            check_choice("kind", self.kind, KINDS)
        if self.use_case is not None and not re.fullmatch(USE_CASE_NAME, self.use_case):
            raise LedgerError(f"use_case = {self.use_case!r}: must match {USE_CASE_NAME}")
        if self.since and self.until and self.until < self.since:
            raise LedgerError(f"until = {self.until}: must not be before since = {self.since}")

    def clauses(self) -> list[ColumnElement[bool]]:
        """SQL conditions for these filters (days compare as ISO strings)."""
        _, t, _ = tables()
        out: list[ColumnElement[bool]] = []
        if self.since:
            out.append(t.c.day >= self.since.isoformat())
        if self.until:
            out.append(t.c.day <= self.until.isoformat())
        if self.name:
            out.append(t.c.name == self.name)
        if self.phase:
            out.append(t.c.phase == self.phase)
        if self.model_version:
            out.append(t.c.model_version == self.model_version)
        if self.kind:
            out.append(t.c.kind == self.kind)
        if self.use_case:
            out.append(t.c.use_case == self.use_case)
        return out


@dataclass(frozen=True)
class Totals:
    """Money, run counts and machine time of a set of entries (each row holds its own part)."""

    entries: int = 0
    compute_usd: float = 0.0
    staff_usd: float = 0.0
    total_usd: float = 0.0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0


TOTAL_FIELDS = tuple(f.name for f in fields(Totals))

# a drift-caused retrain is started by the drift event (deployment trigger) or by a flow on drift
DRIFT_TRIGGERS = ("drift", "event")


@dataclass(frozen=True)
class DriftRetrain:
    """One run triggered by drift and what it cost, staffing included."""

    key: str
    name: str
    started_at: str
    model_version: str | None
    total_usd: float


@dataclass
class Summary:
    """Everything `ledger report` prints beside the table."""

    totals: Totals
    by_phase: dict[str, Totals] = field(default_factory=dict)
    by_name: dict[str, Totals] = field(default_factory=dict)
    by_model_version: dict[str, Totals] = field(default_factory=dict)
    by_use_case: dict[str, Totals] = field(default_factory=dict)  # the portfolio's totals
    predictions: int = 0
    serving_usd: float = 0.0
    serving_usd_per_1k_predictions: float | None = None
    all_in_usd_per_1k_predictions: float | None = None
    drift_retrains: list[DriftRetrain] = field(default_factory=list)
    platform: Totals = field(default_factory=Totals)  # long-running servers, shown apart
    # with --allocate-platform: the platform's USD shared out among the runs it served
    platform_allocation: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


def _grouped(filters: Filters, column: str, url: str | None) -> dict[str, Totals]:
    """Totals per value of one column."""
    from sqlalchemy import func, select

    _, t, _ = tables()
    col = t.c[column]
    stmt = (
        select(
            col,
            func.count(),
            func.coalesce(func.sum(t.c.compute_usd), 0.0),
            func.coalesce(func.sum(t.c.staff_usd), 0.0),
            func.coalesce(func.sum(t.c.total_usd), 0.0),
            func.coalesce(func.sum(t.c.cpu_seconds), 0.0),
            func.coalesce(func.sum(t.c.wall_seconds), 0.0),
        )
        .where(*filters.clauses())
        .group_by(col)
        .order_by(func.sum(t.c.total_usd).desc())
    )
    with get_engine(url).connect() as conn:
        return {
            str(v): Totals(int(n), float(c), float(s), float(tot), float(cpu), float(wall))
            for v, n, c, s, tot, cpu, wall in conn.execute(stmt)
            if v is not None
        }


def summarize(filters: Filters | None = None, url: str | None = None) -> Summary:
    """Totals overall, by phase, by flow and per model version; serving and drift costs."""
    from sqlalchemy import func, select

    filters = filters or Filters()
    _, t, _ = tables()
    by_phase = _grouped(filters, "phase", url)
    by_name = _grouped(filters, "name", url)
    totals = Totals(
        sum(x.entries for x in by_phase.values()),
        sum(x.compute_usd for x in by_phase.values()),
        sum(x.staff_usd for x in by_phase.values()),
        sum(x.total_usd for x in by_phase.values()),
        sum(x.cpu_seconds for x in by_phase.values()),
        sum(x.wall_seconds for x in by_phase.values()),
    )
    where = filters.clauses()
    with get_engine(url).connect() as conn:
        preds, serving = conn.execute(
            select(
                func.coalesce(func.sum(t.c.predictions), 0),
                func.coalesce(func.sum(t.c.total_usd), 0.0),
            ).where(*where, t.c.kind == "serving")
        ).one()
        drift = conn.execute(
            select(t.c.key, t.c.name, t.c.started_at, t.c.model_version, t.c.total_usd)
            .where(*where, t.c.trigger.in_(DRIFT_TRIGGERS), t.c.kind.not_in(("serving", "human")))
            .order_by(t.c.started_at)
        ).all()
    preds = int(preds)
    platform = [v for k, v in by_name.items() if k.startswith(PLATFORM_PREFIX)]
    return Summary(
        totals=totals,
        by_phase=by_phase,
        by_name=by_name,
        by_model_version=_grouped(filters, "model_version", url),
        by_use_case=_grouped(filters, "use_case", url),
        predictions=preds,
        serving_usd=float(serving),
        serving_usd_per_1k_predictions=float(serving) / preds * 1000 if preds else None,
        all_in_usd_per_1k_predictions=totals.total_usd / preds * 1000 if preds else None,
        drift_retrains=[
            DriftRetrain(k, n, s.isoformat(timespec="seconds"), mv, float(tot))
            for k, n, s, mv, tot in drift
        ],
        platform=Totals(*(sum(getattr(t, f) for t in platform) for f in TOTAL_FIELDS)),
    )


def entry_rows(
    filters: Filters | None = None, url: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Entries as flat rows (newest first) for the table and the exports."""
    from sqlalchemy import select

    filters = filters or Filters()
    _, t, _ = tables()
    stmt = (
        select(*(t.c[c] for c in EXPORT_COLUMNS))
        .where(*filters.clauses())
        .order_by(t.c.started_at.desc(), t.c.key)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    with get_engine(url).connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
    for row in rows:
        for k in ("started_at", "ended_at"):
            if isinstance(row[k], datetime):
                row[k] = row[k].isoformat(timespec="seconds")
    return rows


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as CSV text with a header."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(EXPORT_COLUMNS))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def to_json(rows: Sequence[dict[str, Any]], summary: Summary) -> str:
    """Rows and summary as one JSON document."""
    return json.dumps({"summary": summary.to_dict(), "entries": list(rows)}, indent=2)


def console() -> Console:
    """A rich console; piped or captured output gets room enough that no figure is cut."""
    from rich.console import Console

    term = Console()
    return term if term.is_terminal else Console(width=max(term.width, PIPE_WIDTH))


def render(rows: Sequence[dict[str, Any]], summary: Summary) -> None:
    """Print the entries and the summary as terminal tables."""
    from rich.table import Table

    screen = console()
    table = Table(title="Ledger entries (newest first)")
    for col in ("started_at", "kind", "name", "phase", "trigger", "status", "model_version"):
        table.add_column(col)
    for col in ("wall s", "cpu s", "compute $", "staff $", "total $"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            str(r["started_at"]),
            r["kind"],
            r["name"],
            r["phase"],
            r["trigger"],
            r["status"],
            r["model_version"] or "",
            f"{r['wall_seconds']:.1f}",
            f"{r['cpu_seconds']:.1f}",
            f"{r['compute_usd']:.4f}",
            f"{r['staff_usd']:.2f}",
            f"{r['total_usd']:.2f}",
        )
    screen.print(table)
    for title, groups in (
        ("By phase", summary.by_phase),
        ("By flow / stage", summary.by_name),
        ("Per model version (total cost of ownership)", summary.by_model_version),
        ("Portfolio: per use case", summary.by_use_case),
    ):
        t = Table(title=title)
        for col in ("", "entries", "compute $", "staff $", "total $"):
            t.add_column(col, justify="right" if col else "left")
        for k, v in groups.items():
            money = (f"{v.compute_usd:.4f}", f"{v.staff_usd:.2f}", f"{v.total_usd:.2f}")
            t.add_row(k, str(v.entries), *money)
        screen.print(t)
    tot = summary.totals
    screen.print(
        f"Total: {tot.entries} entries, compute ${tot.compute_usd:.4f}, "
        f"staff ${tot.staff_usd:.2f}, total ${tot.total_usd:.2f}; "
        f"CPU {tot.cpu_seconds:.1f} s, wall {tot.wall_seconds:.1f} s"
    )
    if summary.platform.entries:
        plat = summary.platform
        screen.print(
            f"Platform (servers the project started, included above): ${plat.total_usd:.4f}, "
            f"CPU {plat.cpu_seconds:.1f} s over {plat.wall_seconds / 3600:.2f} h"
        )
    if summary.platform_allocation is not None:
        _render_allocation(screen, summary)
    if summary.predictions:
        screen.print(
            f"Predictions served: {summary.predictions}; serving cost per 1,000: "
            f"${summary.serving_usd_per_1k_predictions:.4f}; all-in per 1,000: "
            f"${summary.all_in_usd_per_1k_predictions:.4f}"
        )
    for d in summary.drift_retrains:
        screen.print(f"Drift-triggered {d.name} at {d.started_at}: ${d.total_usd:.2f}")


def _render_allocation(screen: Console, summary: Summary) -> None:
    """Each flow's own cost beside its platform share (pro rata by wall time)."""
    from rich.table import Table

    alloc = summary.platform_allocation or {}
    t = Table(title="Platform allocated to the runs it served (pro rata by wall time)")
    for col in ("", "own $", "platform $", "with platform $"):
        t.add_column(col, justify="right" if col else "left")
    for name, part in sorted(alloc.get("by_name", {}).items(), key=lambda kv: -kv[1]):
        own = summary.by_name.get(name, Totals()).total_usd
        t.add_row(name, f"{own:.4f}", f"{part:.4f}", f"{own + part:.4f}")
    screen.print(t)
    screen.print(
        f"Platform ${alloc.get('platform_usd', 0.0):.4f}: allocated "
        f"${alloc.get('allocated_usd', 0.0):.4f}, unallocated (no run served) "
        f"${alloc.get('unallocated_usd', 0.0):.4f}"
    )
