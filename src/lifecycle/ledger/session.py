"""Connections to the ledger's database: one engine per URL, SQLite tuned for parallel writers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, ProgrammingError

from lifecycle.ledger.tables import USE_CASE_INDEX, tables
from lifecycle.paths import DEFAULT_USE_CASE, Paths
from lifecycle.settings import get_settings

URL_ENV = "LIFECYCLE_LEDGER_URL"

_lock = threading.Lock()
_engines: dict[tuple[str, bool], Engine] = {}


def default_url() -> str:
    """LIFECYCLE_LEDGER_URL, else a SQLite file at the project root."""
    return get_settings().ledger_url or f"sqlite:///{Paths.from_env().root / 'ledger.db'}"


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
    metadata, _, _ = tables()
    for attempt in range(3):
        try:
            with engine.connect() as conn:
                conn.execution_options(ledger_write=True)
                with conn.begin():
                    metadata.create_all(conn)
                    _add_missing_columns(conn)
            return
        except (IntegrityError, ProgrammingError):
            if attempt == 2:
                raise


# columns added after the first release: a ledger written before them gains them (empty, or
# the default use case: every entry written before use cases existed ran the root's params)
ADDED_COLUMNS = {
    "parent_key": "VARCHAR(200)",
    "use_case": f"VARCHAR(40) NOT NULL DEFAULT '{DEFAULT_USE_CASE}'",
}


def _add_missing_columns(conn: Connection) -> None:
    """Bring an older ledger's table up to the current schema (nullable columns only)."""
    _, entries, _ = tables()
    have = {c["name"] for c in inspect(conn).get_columns(entries.name)}
    for name, sql_type in ADDED_COLUMNS.items():
        if name not in have:
            conn.exec_driver_sql(f"ALTER TABLE {entries.name} ADD COLUMN {name} {sql_type}")
    on = f"{entries.name} (use_case, month, total_usd)"
    conn.exec_driver_sql(f"CREATE INDEX IF NOT EXISTS {USE_CASE_INDEX} ON {on}")


def dispose_engines() -> None:
    """Close every pooled connection (tests and forked workers call this)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
