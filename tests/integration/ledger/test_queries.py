"""Queries: idempotent writes, crashed runs reconciled, re-pricing, round trips (SQLite, PG)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lifecycle.config import Params, parse_params
from lifecycle.ledger.meter import metered
from lifecycle.ledger.pricing import StaffLine, Usage
from lifecycle.ledger.queries import (
    count_rows,
    get_entry,
    iter_entries,
    reconcile_crashed,
    reprice_all,
)
from lifecycle.ledger.record import record_serving_period

REPO = Path(__file__).resolve().parents[3]


def _python(script: str, **env: str) -> subprocess.Popen[str]:
    """Start a Python child with this repo importable."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **env}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_retried_write_makes_one_row_and_the_last_wins(params: Params, ledger_url: str) -> None:
    """The same run key written twice is one entry holding the second write's figures."""
    for attempt in (1, 2):
        with metered(
            "flow", "train", "development", "manual", run_key="k-1", params=params, url=ledger_url
        ) as run:
            run.link(model_version=str(attempt))
            run.charge("promotion_review")
            if attempt == 2:
                run.charge("retrain_review")
    assert count_rows(ledger_url) == (1, 2)
    entry = get_entry("k-1", ledger_url)
    assert entry is not None
    assert entry.links["model_version"] == "2"
    assert {s.activity for s in entry.staff} == {"promotion_review", "retrain_review"}
    assert entry.status == "succeeded"


@pytest.mark.slow
def test_a_run_killed_midway_is_reconciled_as_crashed(ledger_url: str, tmp_path: Path) -> None:
    """A process killed inside `metered` leaves a running row that reconcile marks crashed."""
    flag = tmp_path / "flag"
    proc = _python(
        f"""
        import time
        from pathlib import Path
        from lifecycle.ledger.meter import metered
        with metered("flow", "monitor", "maintenance", "schedule", run_key="mid",
                     url={ledger_url!r}):
            Path({str(flag)!r}).write_text("in the run")
            time.sleep(120)
        """
    )
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.kill()
    proc.communicate(timeout=30)
    entry = get_entry("mid", ledger_url)
    assert entry is not None
    assert entry.status == "running"
    assert reconcile_crashed(ledger_url) == 1
    entry = get_entry("mid", ledger_url)
    assert entry is not None
    assert entry.status == "crashed"


def test_repricing_changes_totals_and_keeps_usage(params: Params, ledger_url: str) -> None:
    """A new price sheet and new rates re-price history; measured usage and hours stay."""
    with metered("dvc_stage", "train", "development", "manual", params=params, url=ledger_url) as r:
        sum(i * i for i in range(200_000))
        r.charge("promotion_review")
    record_serving_period(
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(2026, 1, 2, tzinfo=UTC),
        predictions=5000,
        params=params,
        url=ledger_url,
    )
    before = {e.key: e for e in iter_entries(ledger_url)}
    raw = params.model_dump(mode="json")
    raw["prices"]["cpu_core_hour"] *= 10
    raw["prices"]["ram_gb_hour"] *= 10
    raw["staffing"]["roles"]["ml_engineer"] *= 2
    new_params = parse_params(raw)
    old_total, new_total = reprice_all(new_params, ledger_url)
    after = {e.key: e for e in iter_entries(ledger_url)}
    assert old_total == pytest.approx(sum(e.total_usd for e in before.values()))
    assert new_total == pytest.approx(sum(e.total_usd for e in after.values()))
    assert new_total > old_total
    for key, old in before.items():
        new = after[key]
        assert new.usage == old.usage
        assert [(s.activity, s.role, s.hours) for s in new.staff] == [
            (s.activity, s.role, s.hours) for s in old.staff
        ]
        assert new.compute_usd == pytest.approx(old.compute_usd * 10)
        assert new.staff_usd == pytest.approx(old.staff_usd * 2)
        assert new.price_sheet != old.price_sheet


def test_usage_round_trips_exactly(params: Params, sqlite_url: str) -> None:
    """What is written is what is read back, staffing lines included."""
    from lifecycle.ledger.meter import MeteredRun, build_entry
    from lifecycle.ledger.queries import write_entry

    run = MeteredRun("rt", "job", "x", "deployment", "ci", params)
    run.charge("rollback")
    moment = datetime(2026, 5, 5, 5, 5, 5, tzinfo=UTC)
    entry = build_entry(
        run,
        status="succeeded",
        started_at=moment,
        ended_at=moment + timedelta(seconds=3),
        usage=Usage(3.0, 2.5, 123456789, 0.5, 42),
    )
    write_entry(entry, sqlite_url)
    back = get_entry("rt", sqlite_url)
    assert back is not None
    assert back.usage == entry.usage
    assert back.staff == (StaffLine("rollback", "ml_engineer", 1.0, 95.0),)
    assert back.total_usd == pytest.approx(entry.total_usd)
    assert back.started_at == moment.replace(tzinfo=None)
