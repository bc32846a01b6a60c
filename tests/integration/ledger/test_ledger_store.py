"""Storage: idempotent writes, atomic entries, concurrent writers, re-pricing (SQLite and PG)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lifecycle.config import Params, parse_params
from lifecycle.ledger.meter import metered, record_serving_period
from lifecycle.ledger.pricing import StaffLine, Usage
from lifecycle.ledger.store import (
    count_rows,
    get_entry,
    iter_entries,
    reconcile_crashed,
    reprice_all,
)

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


def test_failed_and_crashed_runs_are_recorded(params: Params, ledger_url: str) -> None:
    """An exception is stored as failed, an interrupt as crashed, and both re-raised."""
    with (
        pytest.raises(ZeroDivisionError),
        metered("flow", "ingest", "maintenance", "schedule", params=params, url=ledger_url) as run,
    ):
        _ = 1 / 0
    with (
        pytest.raises(KeyboardInterrupt),
        metered("flow", "ingest", "maintenance", "schedule", params=params, url=ledger_url) as run2,
    ):
        raise KeyboardInterrupt
    failed, crashed = get_entry(run.key, ledger_url), get_entry(run2.key, ledger_url)
    assert failed is not None
    assert failed.status == "failed"
    assert failed.error is not None
    assert "ZeroDivisionError" in failed.error
    assert crashed is not None
    assert crashed.status == "crashed"
    assert failed.compute_usd > 0


KILLED_WRITER = """
    import sys, time
    from pathlib import Path
    from datetime import datetime, UTC
    from lifecycle.config import load_params
    from lifecycle.ledger.meter import MeteredRun, build_entry
    from lifecycle.ledger.pricing import Usage
    from lifecycle.ledger.store import writing, write_rows
    url, flag = sys.argv[1], Path(sys.argv[2])
    params = load_params()
    run = MeteredRun("killed", "flow", "train", "development", "manual", params)
    run.charge("promotion_review"); run.charge("retrain_review")
    entry = build_entry(run, status="succeeded", started_at=datetime.now(UTC),
                        ended_at=datetime.now(UTC), usage=Usage(1.0, 1.0, 1))
    with writing(url) as conn:
        write_rows(conn, entry)
        flag.write_text("written, not committed")
        time.sleep(120)
"""


@pytest.mark.slow
def test_a_killed_writer_leaves_no_partial_row(ledger_url: str, tmp_path: Path) -> None:
    """SIGKILL between the rows and the commit leaves nothing, and the lock is released."""
    flag = tmp_path / "flag"
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLED_WRITER), ledger_url, str(flag)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not flag.exists():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "writer never reached the commit"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    if proc.stderr:
        proc.stderr.close()
    time.sleep(0.5)  # PostgreSQL notices the dead backend and rolls back
    assert count_rows(ledger_url) == (0, 0)
    assert get_entry("killed", ledger_url) is None


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


CONCURRENT_WRITER = """
    import sys
    from lifecycle.config import load_params
    from lifecycle.ledger.meter import metered
    url, worker, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    params = load_params()
    for i in range(n):
        with metered("task", f"fit-{worker}", "development", "manual", params=params,
                     url=url, run_key=f"w{worker}-{i}", measure_storage=False) as run:
            run.charge("promotion_review"); run.charge("retrain_review")
        with metered("task", "shared", "development", "manual", params=params,
                     url=url, run_key="same-key", measure_storage=False) as run:
            run.charge("promotion_review")
    print("ok")
"""


@pytest.mark.slow
def test_eight_concurrent_writers_lose_nothing(ledger_url: str) -> None:
    """8 processes writing at once: every entry and line is stored, a shared key stays one row."""
    writers, per_writer = 8, 15
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                textwrap.dedent(CONCURRENT_WRITER),
                ledger_url,
                str(w),
                str(per_writer),
            ],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(writers)
    ]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert out.strip() == "ok"
    entries, lines = count_rows(ledger_url)
    assert entries == writers * per_writer + 1
    assert lines == writers * per_writer * 2 + 1
    shared = get_entry("same-key", ledger_url)
    assert shared is not None
    assert len(shared.staff) == 1


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


def test_usage_round_trips_exactly(params: Params, sqlite_url: str) -> None:
    """What is written is what is read back, staffing lines included."""
    from lifecycle.ledger.meter import MeteredRun, build_entry
    from lifecycle.ledger.store import write_entry

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
