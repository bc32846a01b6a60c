"""Entries recorded from figures: serving periods are idempotent per period (SQLite and PG)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lifecycle.config import Params
from lifecycle.ledger.queries import count_rows
from lifecycle.ledger.record import record_serving_period


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
