"""The dashboard's data: a parent run shows its whole tree's cost; totals count each run once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lifecycle.config import Params
from lifecycle.ledger.dashboard import dashboard_data
from lifecycle.ledger.meter import MeteredRun, build_entry
from lifecycle.ledger.models import LedgerEntry
from lifecycle.ledger.pricing import Usage
from lifecycle.ledger.queries import write_entry

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _row(params: Params, url: str, key: str, name: str, seconds: float,
         parent: str | None = None) -> LedgerEntry:  # fmt: skip
    """A succeeded flow row of `seconds` wall and CPU (its own part), child of `parent`."""
    run = MeteredRun(key, "flow", name, "development", "manual", params, parent_key=parent)
    start = NOW - timedelta(hours=1)
    usage = Usage(wall_seconds=seconds, cpu_seconds=seconds, peak_memory_bytes=2**28)
    entry = build_entry(run, status="succeeded", started_at=start,
                        ended_at=start + timedelta(seconds=seconds), usage=usage)  # fmt: skip
    return write_entry(entry, url)


def test_a_parent_flow_shows_its_whole_tree_and_totals_count_each_run_once(
    params: Params, sqlite_url: str
) -> None:
    """lifecycle (own 1 s) > ingest, train > fit (grandchild), monitor: one row with the whole
    tree's cost first; the page's totals are the rows' own parts, added once."""
    rows = [
        _row(params, sqlite_url, "life", "lifecycle", 1.0),
        _row(params, sqlite_url, "ingest", "ingest", 600.0, "life"),
        _row(params, sqlite_url, "train", "train", 3000.0, "life"),
        _row(params, sqlite_url, "fit", "fit-candidates", 2000.0, "train"),
        _row(params, sqlite_url, "monitor", "monitor", 300.0, "life"),
        _row(params, sqlite_url, "alone", "monitor", 900.0),
    ]
    data = dashboard_data(params, sqlite_url, now=NOW)
    assert data["totals"]["total_usd"] == pytest.approx(sum(r.total_usd for r in rows))
    assert data["totals"]["entries"] == len(rows)
    first = data["costliest"][0]
    assert first["name"] == "lifecycle"
    assert first["rollup"]["runs"] == 4
    assert first["rollup"]["total_usd"] == pytest.approx(sum(r.total_usd for r in rows[:5]))
    assert first["rollup"]["cpu_seconds"] == pytest.approx(5901.0)
    assert first["total_usd"] == pytest.approx(rows[0].total_usd)  # its own part, kept apart
    train = next(r for r in data["costliest"] if r["name"] == "train")
    assert train["rollup"]["runs"] == 1 and train["rollup"]["cpu_seconds"] == pytest.approx(5000)
    alone = next(r for r in data["costliest"] if r["key"] == "alone")
    assert alone["rollup"] is None


def test_a_filter_keeps_the_parent_only_when_it_matches(params: Params, sqlite_url: str) -> None:
    """Filtered to the monitor flow, the parent lifecycle run is not listed."""
    _row(params, sqlite_url, "life", "lifecycle", 1.0)
    _row(params, sqlite_url, "monitor", "monitor", 300.0, "life")
    from lifecycle.ledger.dashboard import Filters

    data = dashboard_data(params, sqlite_url, now=NOW, filters=Filters(flow="monitor"))
    assert [r["name"] for r in data["costliest"]] == ["monitor"]
