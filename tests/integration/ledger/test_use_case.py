"""Every entry carries its use case: metered runs, the migration of older ledgers, the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, inspect

from lifecycle.config import Params
from lifecycle.ledger.meter import MeteredRun, build_entry, metered
from lifecycle.ledger.pricing import Usage
from lifecycle.ledger.queries import get_entry, write_entry
from lifecycle.ledger.report import Filters, summarize
from lifecycle.ledger.session import dispose_engines, get_engine
from lifecycle.paths import DEFAULT_USE_CASE


def _write(params: Params, url: str, key: str, use_case: str, hours: float) -> None:
    """One finished flow run of `hours` wall time, charged to `use_case`."""
    run = MeteredRun(key, "flow", "train", "development", "manual", params, use_case=use_case)
    start = datetime(2024, 3, 1, 9, tzinfo=UTC)
    wall = hours * 3600
    usage = Usage(wall_seconds=wall, cpu_seconds=wall / 2, peak_memory_bytes=0)
    entry = build_entry(
        run, status="succeeded", started_at=start, ended_at=start + timedelta(hours=hours),
        usage=usage,
    )  # fmt: skip
    write_entry(entry, url)


def test_a_metered_run_carries_the_active_use_case(
    params: Params, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LIFECYCLE_USE_CASE names the entry's use case; unset, the root's is "default"."""
    with metered("flow", "train", "development", "manual", params=params, url=sqlite_url,
                 run_key="root", measure_storage=False, tag=False):  # fmt: skip
        pass
    monkeypatch.setenv("LIFECYCLE_USE_CASE", "churn-b")
    with metered("flow", "train", "development", "manual", params=params, url=sqlite_url,
                 run_key="b", measure_storage=False, tag=False):  # fmt: skip
        pass
    root, other = get_entry("root", sqlite_url), get_entry("b", sqlite_url)
    assert root is not None and other is not None
    assert (root.use_case, other.use_case) == (DEFAULT_USE_CASE, "churn-b")


def test_an_older_ledger_gains_the_column_with_its_rows_in_the_default_use_case(
    params: Params, sqlite_url: str
) -> None:
    """A ledger written before use cases keeps every row, each charged to "default"."""
    _write(params, sqlite_url, "old", "ignored", 1.0)
    dispose_engines()
    raw = create_engine(sqlite_url)
    with raw.begin() as conn:  # back to the schema before this column existed
        conn.exec_driver_sql("DROP INDEX ix_ledger_use_case")
        conn.exec_driver_sql("ALTER TABLE ledger_entries DROP COLUMN use_case")
    raw.dispose()
    get_engine(sqlite_url)  # opening the ledger migrates it
    with get_engine(sqlite_url).connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("ledger_entries")}
        indexes = {i["name"] for i in inspect(conn).get_indexes("ledger_entries")}
    assert "use_case" in columns and "ix_ledger_use_case" in indexes
    old = get_entry("old", sqlite_url)
    assert old is not None and old.use_case == DEFAULT_USE_CASE
    _write(params, sqlite_url, "new", "churn-b", 2.0)
    new = get_entry("new", sqlite_url)
    assert new is not None and new.use_case == "churn-b"


def test_the_report_filters_by_use_case_and_totals_the_portfolio(
    params: Params, ledger_url: str
) -> None:
    """--use-case keeps its own entries; the portfolio totals add up to the whole ledger."""
    _write(params, ledger_url, "a1", DEFAULT_USE_CASE, 1.0)
    _write(params, ledger_url, "a2", DEFAULT_USE_CASE, 2.0)
    _write(params, ledger_url, "b1", "churn-b", 4.0)
    whole = summarize(Filters(), ledger_url)
    assert {k: v.entries for k, v in whole.by_use_case.items()} == {
        DEFAULT_USE_CASE: 2,
        "churn-b": 1,
    }
    assert sum(v.total_usd for v in whole.by_use_case.values()) == pytest.approx(
        whole.totals.total_usd
    )
    only_b = summarize(Filters(use_case="churn-b"), ledger_url)
    assert only_b.totals.entries == 1
    assert only_b.totals.total_usd == pytest.approx(whole.by_use_case["churn-b"].total_usd)
    assert only_b.totals.wall_seconds == pytest.approx(4 * 3600)


def test_ledger_report_cli_takes_use_case(params: Params, sqlite_url: str) -> None:
    """`ledger report --use-case NAME` prints only that use case's rows and their portfolio line."""
    from typer.testing import CliRunner

    from lifecycle.cli import app

    _write(params, sqlite_url, "a1", DEFAULT_USE_CASE, 1.0)
    _write(params, sqlite_url, "b1", "churn-b", 4.0)
    args = ["ledger", "report", "--format", "json", "--url", sqlite_url]
    result = CliRunner().invoke(app, [*args, "--use-case", "churn-b"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert [(r["key"], r["use_case"]) for r in doc["entries"]] == [("b1", "churn-b")]
    assert list(doc["summary"]["by_use_case"]) == ["churn-b"]
    bad = CliRunner().invoke(app, [*args, "--use-case", "Bad Name"])
    assert bad.exit_code == 2 and "use_case = 'Bad Name': must match" in bad.stderr
    table = CliRunner().invoke(app, ["ledger", "report", "--url", sqlite_url])
    assert table.exit_code == 0, table.output
    assert "Portfolio: per use case" in table.stdout and "churn-b" in table.stdout
