"""Entries recorded from figures: serving periods are idempotent per period (SQLite and PG)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from lifecycle.config import Params
from lifecycle.ledger.queries import count_rows
from lifecycle.ledger.record import record_platform_process, record_serving_period
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
