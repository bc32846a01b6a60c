"""Entries recorded from figures: serving periods are idempotent per period (SQLite and PG)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from lifecycle.config import Params
from lifecycle.ledger.queries import count_rows
from lifecycle.ledger.record import record_platform_process, record_serving_period, record_setup
from lifecycle.ledger.report import summarize


def test_serving_periods_are_idempotent_per_period(params: Params, ledger_url: str) -> None:
    """The service re-recording the same hour does not double its uptime cost."""
    start = datetime(2026, 3, 1, 10, tzinfo=UTC)
    for predictions in (100, 250):
        entry = record_serving_period(
            start,
            start + timedelta(hours=1),
            predictions,
            model_version="4",
            params=params,
            url=ledger_url,
        )
    assert count_rows(ledger_url) == (1, 0)
    assert entry.predictions == 250
    request = params.resources.request_for("serving", "api")
    assert entry.compute_usd == pytest.approx(
        request.cpu_cores * params.prices.cpu_core_hour
        + request.memory_gb * params.prices.ram_gb_hour
    )


def test_a_serving_period_takes_its_trigger_from_the_environment(
    params: Params, ledger_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lifecycle serve` by hand sets LIFECYCLE_TRIGGER=manual; a deployed service is scheduled."""
    start = datetime(2026, 3, 1, 10, tzinfo=UTC)
    monkeypatch.delenv("LIFECYCLE_TRIGGER", raising=False)
    deployed = record_serving_period(
        start, start + timedelta(hours=1), 1, run_key="a", params=params, url=ledger_url
    )
    monkeypatch.setenv("LIFECYCLE_TRIGGER", "manual")
    by_hand = record_serving_period(
        start, start + timedelta(hours=1), 1, run_key="b", params=params, url=ledger_url
    )
    assert (deployed.trigger, by_hand.trigger) == ("schedule", "manual")


BUSY_SERVER = (
    "import sys, time\n"
    "sum(i * i for i in range(4_000_000))\n"
    "print(time.process_time(), flush=True)\n"
    "sys.stdin.readline()\n"
)


def test_a_platform_process_is_recorded_once_and_reported_apart(
    params: Params, sqlite_url: str
) -> None:
    """A server's CPU since it started is one entry (re-recording updates it), shown apart."""
    server = subprocess.Popen(
        [sys.executable, "-c", BUSY_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None and server.stdin is not None
        used = float(server.stdout.readline())
        first = record_platform_process("prefect-server", server.pid, params=params, url=sqlite_url)
        again = record_platform_process("prefect-server", server.pid, params=params, url=sqlite_url)
    finally:
        server.communicate("bye\n", timeout=60)
    assert first is not None and again is not None
    assert again.key == first.key and count_rows(sqlite_url) == (1, 0)
    assert again.name == "platform-prefect-server" and again.kind == "job"
    assert again.usage.cpu_seconds == pytest.approx(used, rel=0.10, abs=0.05)
    assert again.usage.wall_seconds > 0 and again.compute_usd > 0
    summary = summarize(url=sqlite_url)
    assert summary.platform.entries == 1
    assert summary.platform.cpu_seconds == pytest.approx(again.usage.cpu_seconds)
    assert record_platform_process("gone", server.pid, params=params, url=sqlite_url) is None


def test_the_environment_sync_before_a_run_is_one_priced_row(
    params: Params, ledger_url: str
) -> None:
    """`make run` times `uv sync`: one row with that CPU and wall, ending now; bad usage refused."""
    from lifecycle.ledger.pricing import LedgerError

    entry = record_setup(3.5, 2.0, params=params, url=ledger_url)
    assert (entry.kind, entry.name, entry.status) == ("job", "environment-sync", "succeeded")
    assert (entry.usage.cpu_seconds, entry.usage.wall_seconds) == (3.5, 2.0)
    assert entry.ended_at is not None
    assert entry.ended_at - entry.started_at == timedelta(seconds=2.0)
    assert entry.compute_usd > 0 and count_rows(ledger_url) == (1, 0)  # (entries, staff lines)
    with pytest.raises(LedgerError, match="must be >= 0"):
        record_setup(-1.0, 2.0, params=params, url=ledger_url)


def test_lifecycle_run_records_the_setup_usage_make_gave_it_once(
    params: Params, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LIFECYCLE_SETUP_USAGE ("user system wall") becomes one row, and is then cleared."""
    import os

    from lifecycle import cli
    from lifecycle.ledger.queries import iter_entries

    monkeypatch.setenv("LIFECYCLE_LEDGER_URL", sqlite_url)
    monkeypatch.setenv("LIFECYCLE_SETUP_USAGE", "2.25 0.75 4.5")
    cli._record_setup(params)
    cli._record_setup(params)  # a nested call finds nothing to record
    (row,) = [e for e in iter_entries(sqlite_url) if e.name == "environment-sync"]
    assert (row.usage.cpu_seconds, row.usage.wall_seconds) == (3.0, 4.5)
    assert "LIFECYCLE_SETUP_USAGE" not in os.environ
