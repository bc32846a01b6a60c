"""SQLAlchemy storage of ledger entries: one transaction per entry, idempotent by run key.

A write with a key that is already stored replaces that entry and its staffing lines (the last
write wins), in the same transaction, so a retried write never makes two rows and a killed
writer leaves either the old entry or the new one, never half of one.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import psutil

from lifecycle.ledger.pricing import (
    ComputeCost,
    StaffLine,
    Usage,
    price_compute,
    price_sheet_id,
    staff_line,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine, MetaData, Table
    from sqlalchemy.engine import Connection

    from lifecycle.config import Params

LINK_FIELDS = (
    "prefect_flow_run_id",
    "mlflow_run_id",
    "data_version",
    "model_version",
    "git_commit",
)
URL_ENV = "LIFECYCLE_LEDGER_URL"


def default_url() -> str:
    """LIFECYCLE_LEDGER_URL, else a SQLite file at the project root."""
    from lifecycle.paths import Paths

    return os.environ.get(URL_ENV) or f"sqlite:///{Paths.from_env().root / 'ledger.db'}"


def utc_naive(moment: datetime) -> datetime:
    """Store every time as naive UTC so SQLite and PostgreSQL give back the same value."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


@dataclass
class LedgerEntry:
    """One run of anything that costs money, with its usage, links and priced cost."""

    key: str
    kind: str
    name: str
    phase: str
    trigger: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    usage: Usage
    request_cpu_cores: float
    request_memory_gb: float
    request_gpus: float = 0.0
    predictions: int = 0
    links: dict[str, str | None] = field(default_factory=dict)
    staff: tuple[StaffLine, ...] = ()
    cost: ComputeCost = field(default_factory=lambda: ComputeCost(0.0, 0.0, 0.0, 0.0))
    price_sheet: str = ""
    host: str = ""
    pid: int = 0
    error: str | None = None
    note: str | None = None

    @property
    def staff_usd(self) -> float:
        """Human work charged on this entry."""
        return sum(line.usd for line in self.staff)

    @property
    def compute_usd(self) -> float:
        """Machines and disks for this entry."""
        return self.cost.compute_usd

    @property
    def total_usd(self) -> float:
        """Everything this entry cost."""
        return self.compute_usd + self.staff_usd

    def reprice(self, params: Params) -> LedgerEntry:
        """The same usage and hours under params' prices and rates."""
        from lifecycle.config import ResourceRequest

        request = ResourceRequest(
            cpu_cores=self.request_cpu_cores,
            memory_gb=self.request_memory_gb,
            gpus=self.request_gpus,
        )
        staff = tuple(
            staff_line(s.activity, params.staffing, hours=s.hours, role=s.role) for s in self.staff
        )
        return dataclasses.replace(
            self,
            cost=price_compute(self.usage, request, params.prices),
            staff=staff,
            price_sheet=price_sheet_id(params),
        )

    def tags(self) -> dict[str, str]:
        """The cost tags set on the Prefect and MLflow runs this entry links to."""
        return {
            "cost.compute_usd": f"{self.compute_usd:.6f}",
            "cost.staff_usd": f"{self.staff_usd:.2f}",
            "cost.total_usd": f"{self.total_usd:.6f}",
            "ledger.key": self.key,
        }


_lock = threading.Lock()
_engines: dict[tuple[str, bool], Engine] = {}
_schema: dict[str, Any] = {}


def tables() -> tuple[MetaData, Table, Table]:
    """The ledger's two tables, built once on first use (no work at import)."""
    if "entries" in _schema:
        return _schema["metadata"], _schema["entries"], _schema["staff"]
    from sqlalchemy import (
        BigInteger,
        Column,
        DateTime,
        Float,
        ForeignKey,
        Index,
        Integer,
        MetaData,
        String,
        Table,
        Text,
    )

    metadata = MetaData()
    entries = Table(
        "ledger_entries",
        metadata,
        Column("key", String(200), primary_key=True),
        Column("kind", String(40), nullable=False),
        Column("name", String(200), nullable=False),
        Column("phase", String(20), nullable=False),
        Column("trigger", String(20), nullable=False),
        Column("status", String(20), nullable=False),
        Column("started_at", DateTime, nullable=False),
        Column("ended_at", DateTime),
        Column("day", String(10), nullable=False),
        Column("month", String(7), nullable=False),
        Column("wall_seconds", Float, nullable=False),
        Column("cpu_seconds", Float, nullable=False),
        Column("peak_memory_bytes", BigInteger, nullable=False),
        Column("gpu_seconds", Float, nullable=False),
        Column("storage_bytes", BigInteger, nullable=False),
        Column("request_cpu_cores", Float, nullable=False),
        Column("request_memory_gb", Float, nullable=False),
        Column("request_gpus", Float, nullable=False),
        Column("predictions", BigInteger, nullable=False),
        *(Column(name, String(200)) for name in LINK_FIELDS),
        Column("cpu_usd", Float, nullable=False),
        Column("ram_usd", Float, nullable=False),
        Column("gpu_usd", Float, nullable=False),
        Column("storage_usd", Float, nullable=False),
        Column("compute_usd", Float, nullable=False),
        Column("staff_usd", Float, nullable=False),
        Column("total_usd", Float, nullable=False),
        Column("price_sheet", String(32), nullable=False),
        Column("host", String(200), nullable=False),
        Column("pid", Integer, nullable=False),
        Column("error", Text),
        Column("note", Text),
        Column("recorded_at", DateTime, nullable=False),
        Index("ix_ledger_day", "day"),
        # covering indexes: the forecast and the dashboard read only these columns
        Index("ix_ledger_rates", "started_at", "kind", "name", "phase", "total_usd"),
        Index(
            "ix_ledger_rollup",
            "month",
            "phase",
            "name",
            "kind",
            "model_version",
            "compute_usd",
            "staff_usd",
            "total_usd",
            "predictions",
        ),
        Index("ix_ledger_status", "status"),
        Index("ix_ledger_total", "total_usd"),
    )
    staff = Table(
        "ledger_staff_lines",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column(
            "entry_key",
            String(200),
            ForeignKey("ledger_entries.key", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        Column("activity", String(100), nullable=False),
        Column("role", String(100), nullable=False),
        Column("hours", Float, nullable=False),
        Column("rate_usd", Float, nullable=False),
        Column("usd", Float, nullable=False),
    )
    _schema.update(metadata=metadata, entries=entries, staff=staff)
    return metadata, entries, staff


def _sqlite_pragmas(readonly: bool) -> Any:
    """WAL, a long busy timeout and BEGIN IMMEDIATE so parallel writers queue, not fail."""

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA busy_timeout = 60000")
        if not readonly:
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.close()

    return on_connect


def _sqlite_begin(conn: Connection) -> None:
    """Writers take the write lock up front (no deadlock on upgrade); readers do not."""
    write = conn.get_execution_options().get("ledger_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def writing(url: str | None = None) -> Iterator[Connection]:
    """A write transaction: committed on exit, rolled back whole on any error."""
    with get_engine(url).connect() as conn:
        conn.execution_options(ledger_write=True)
        with conn.begin():
            yield conn


def get_engine(url: str | None = None, *, readonly: bool = False) -> Engine:
    """One engine per URL and process, with the schema created on first use."""
    url = url or default_url()
    cache_key = (url, readonly)
    engine = _engines.get(cache_key)
    if engine is not None:
        return engine
    with _lock:
        engine = _engines.get(cache_key)
        if engine is not None:
            return engine
        from sqlalchemy import create_engine, event

        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 60})
            event.listen(engine, "connect", _sqlite_pragmas(readonly))
            event.listen(engine, "begin", _sqlite_begin)
        else:
            engine = create_engine(url, pool_pre_ping=True)
        if not readonly:
            _create_schema(engine)
        _engines[cache_key] = engine
        return engine


def _create_schema(engine: Engine) -> None:
    """Create the tables if missing; a parallel creator winning the race is not an error."""
    from sqlalchemy.exc import IntegrityError, ProgrammingError

    metadata, _, _ = tables()
    for attempt in range(3):
        try:
            with engine.connect() as conn:
                conn.execution_options(ledger_write=True)
                with conn.begin():
                    metadata.create_all(conn)
            return
        except (IntegrityError, ProgrammingError):
            if attempt == 2:
                raise


def dispose_engines() -> None:
    """Close every pooled connection (tests and forked workers call this)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


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
        "recorded_at": datetime.now(UTC).replace(tzinfo=None),
    }


def _upsert_statement(dialect: str, table: Table) -> Any:
    """The insert-or-replace statement of a dialect, built once (rows are bound at execute)."""
    cache_key = f"upsert:{dialect}:{table.name}"
    stmt = _schema.get(cache_key)
    if stmt is not None:
        return stmt
    cols = [c.name for c in table.columns if c.name != "key"]
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        lite = sqlite.insert(table)
        stmt = lite.on_conflict_do_update(
            index_elements=["key"], set_={k: lite.excluded[k] for k in cols}
        )
    elif dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        pg = postgresql.insert(table)
        stmt = pg.on_conflict_do_update(
            index_elements=["key"], set_={k: pg.excluded[k] for k in cols}
        )
    _schema[cache_key] = stmt
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
    )


def iter_entries(
    url: str | None = None, *, where: Iterable[Any] = (), batch: int = 2000
) -> Iterator[LedgerEntry]:
    """Every stored entry (optionally filtered), with its staffing lines, oldest first."""
    from sqlalchemy import select

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
    from sqlalchemy import func, select

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
    import socket

    from sqlalchemy import select, update

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
