"""Write and read ledger entries: one transaction per entry, idempotent by run key.

A write with a key that is already stored replaces that entry and its staffing lines (the last
write wins), in the same transaction, so a retried write never makes two rows and a killed
writer leaves either the old entry or the new one, never half of one.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import psutil
from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from lifecycle.config import Params
from lifecycle.ledger.models import LINK_FIELDS, LedgerEntry, utc_naive
from lifecycle.ledger.pricing import ComputeCost, StaffLine, Usage
from lifecycle.ledger.session import get_engine, writing
from lifecycle.ledger.tables import tables
from lifecycle.paths import DEFAULT_USE_CASE

_upserts: dict[str, Any] = {}


def _row(entry: LedgerEntry) -> dict[str, Any]:
    """The entries-table row of an entry."""
    started = utc_naive(entry.started_at)
    u = entry.usage
    return {
        "key": entry.key,
        "kind": entry.kind,
        "name": entry.name,
        "phase": entry.phase,
        "trigger": entry.trigger,
        "status": entry.status,
        "started_at": started,
        "ended_at": utc_naive(entry.ended_at) if entry.ended_at else None,
        "day": started.strftime("%Y-%m-%d"),
        "month": started.strftime("%Y-%m"),
        "wall_seconds": u.wall_seconds,
        "cpu_seconds": u.cpu_seconds,
        "peak_memory_bytes": int(u.peak_memory_bytes),
        "gpu_seconds": u.gpu_seconds,
        "storage_bytes": int(u.storage_bytes),
        "request_cpu_cores": entry.request_cpu_cores,
        "request_memory_gb": entry.request_memory_gb,
        "request_gpus": entry.request_gpus,
        "predictions": int(entry.predictions),
        **{name: entry.links.get(name) for name in LINK_FIELDS},
        "cpu_usd": entry.cost.cpu_usd,
        "ram_usd": entry.cost.ram_usd,
        "gpu_usd": entry.cost.gpu_usd,
        "storage_usd": entry.cost.storage_usd,
        "compute_usd": entry.compute_usd,
        "staff_usd": entry.staff_usd,
        "total_usd": entry.total_usd,
        "price_sheet": entry.price_sheet,
        "host": entry.host,
        "pid": entry.pid,
        "error": entry.error,
        "note": entry.note,
        "parent_key": entry.parent_key,
        "use_case": entry.use_case,
        "recorded_at": datetime.now(UTC).replace(tzinfo=None),
    }


def _upsert_statement(dialect: str, table: Table) -> Any:
    """The insert-or-replace statement of a dialect, built once (rows are bound at execute)."""
    cache_key = f"{dialect}:{table.name}"
    stmt = _upserts.get(cache_key)
    if stmt is not None:
        return stmt
    cols = [c.name for c in table.columns if c.name != "key"]
    if dialect == "sqlite":
        lite = sqlite.insert(table)
        stmt = lite.on_conflict_do_update(
            index_elements=["key"], set_={k: lite.excluded[k] for k in cols}
        )
    elif dialect == "postgresql":
        pg = postgresql.insert(table)
        stmt = pg.on_conflict_do_update(
            index_elements=["key"], set_={k: pg.excluded[k] for k in cols}
        )
    _upserts[cache_key] = stmt
    return stmt


def _upsert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert or replace rows by primary key, atomically on SQLite and PostgreSQL."""
    stmt = _upsert_statement(conn.dialect.name, table)
    if stmt is not None:
        conn.execute(stmt, rows)
        return
    conn.execute(table.delete().where(table.c.key.in_([r["key"] for r in rows])))
    conn.execute(table.insert(), rows)


def write_rows(conn: Connection, entry: LedgerEntry) -> None:
    """Write an entry and its staffing lines inside the caller's transaction."""
    write_many_rows(conn, [entry])


def write_many_rows(conn: Connection, batch: list[LedgerEntry]) -> None:
    """Write entries and their staffing lines inside the caller's transaction (bulk import)."""
    if not batch:
        return
    _, entries, staff = tables()
    _upsert(conn, entries, [_row(e) for e in batch])
    keys = [e.key for e in batch]
    conn.execute(staff.delete().where(staff.c.entry_key.in_(keys)))
    lines = [
        {
            "entry_key": e.key,
            "activity": s.activity,
            "role": s.role,
            "hours": s.hours,
            "rate_usd": s.rate_usd,
            "usd": s.usd,
        }
        for e in batch
        for s in e.staff
    ]
    if lines:
        conn.execute(staff.insert(), lines)


def write_entry(entry: LedgerEntry, url: str | None = None) -> LedgerEntry:
    """Store an entry and its staffing lines in one transaction (last write wins)."""
    with writing(url) as conn:
        write_rows(conn, entry)
    return entry


def _entry_from(row: Any, lines: list[StaffLine]) -> LedgerEntry:
    """Rebuild an entry from its stored row and lines."""
    m = row._mapping
    return LedgerEntry(
        key=m["key"],
        kind=m["kind"],
        name=m["name"],
        phase=m["phase"],
        trigger=m["trigger"],
        status=m["status"],
        started_at=m["started_at"],
        ended_at=m["ended_at"],
        usage=Usage(
            wall_seconds=m["wall_seconds"],
            cpu_seconds=m["cpu_seconds"],
            peak_memory_bytes=m["peak_memory_bytes"],
            gpu_seconds=m["gpu_seconds"],
            storage_bytes=m["storage_bytes"],
        ),
        request_cpu_cores=m["request_cpu_cores"],
        request_memory_gb=m["request_memory_gb"],
        request_gpus=m["request_gpus"],
        predictions=m["predictions"],
        links={name: m[name] for name in LINK_FIELDS},
        staff=tuple(lines),
        cost=ComputeCost(m["cpu_usd"], m["ram_usd"], m["gpu_usd"], m["storage_usd"]),
        price_sheet=m["price_sheet"],
        host=m["host"],
        pid=m["pid"],
        error=m["error"],
        note=m["note"],
        parent_key=m.get("parent_key"),
        use_case=m.get("use_case") or DEFAULT_USE_CASE,
    )


def iter_entries(
    url: str | None = None, *, where: Iterable[Any] = (), batch: int = 2000
) -> Iterator[LedgerEntry]:
    """Every stored entry (optionally filtered), with its staffing lines, oldest first."""
    _, entries, staff = tables()
    engine = get_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(entries).where(*where).order_by(entries.c.started_at, entries.c.key)
        ).all()
        for i in range(0, len(rows), batch):
            chunk = rows[i : i + batch]
            keys = [r._mapping["key"] for r in chunk]
            lines: dict[str, list[StaffLine]] = {k: [] for k in keys}
            for s in conn.execute(
                select(staff).where(staff.c.entry_key.in_(keys)).order_by(staff.c.id)
            ):
                sm = s._mapping
                lines[sm["entry_key"]].append(
                    StaffLine(sm["activity"], sm["role"], sm["hours"], sm["rate_usd"])
                )
            for r in chunk:
                yield _entry_from(r, lines[r._mapping["key"]])


def get_entry(key: str, url: str | None = None) -> LedgerEntry | None:
    """One entry by its run key, or None."""
    _, entries, _ = tables()
    return next(iter_entries(url, where=[entries.c.key == key]), None)


def count_rows(url: str | None = None) -> tuple[int, int]:
    """How many entries and staffing lines are stored."""
    _, entries, staff = tables()
    with get_engine(url).connect() as conn:
        n_entries = conn.execute(select(func.count()).select_from(entries)).scalar_one()
        n_lines = conn.execute(select(func.count()).select_from(staff)).scalar_one()
    return int(n_entries), int(n_lines)


def reprice_all(params: Params, url: str | None = None) -> tuple[float, float]:
    """Re-price every entry with params' prices and rates; usage is never touched."""
    before = after = 0.0
    repriced = []
    for entry in iter_entries(url):
        before += entry.total_usd
        new = entry.reprice(params)
        after += new.total_usd
        repriced.append(new)
    with writing(url) as conn:
        for i in range(0, len(repriced), 1000):
            write_many_rows(conn, repriced[i : i + 1000])
    return before, after


def reconcile_crashed(url: str | None = None, *, max_age_hours: float = 24.0) -> int:
    """Mark 'running' entries whose process died (or that are too old) as crashed."""
    _, entries, _ = tables()
    host = socket.gethostname()
    now = datetime.now(UTC).replace(tzinfo=None)
    dead: list[str] = []
    engine = get_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(entries.c.key, entries.c.host, entries.c.pid, entries.c.started_at).where(
                entries.c.status == "running"
            )
        ).all()
    for key, row_host, pid, started in rows:
        too_old = (now - started).total_seconds() > max_age_hours * 3600
        gone = row_host == host and pid != os.getpid() and not psutil.pid_exists(pid)
        if gone or too_old:
            dead.append(key)
    if dead:
        with writing(url) as conn:
            conn.execute(
                update(entries)
                .where(entries.c.key.in_(dead), entries.c.status == "running")
                .values(
                    status="crashed",
                    note="the process ended before the run did; usage after start not measured",
                )
            )
    return len(dead)
