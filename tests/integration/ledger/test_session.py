"""Transactions: a killed writer leaves no partial row; parallel writers lose nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lifecycle.ledger.queries import count_rows, get_entry

REPO = Path(__file__).resolve().parents[3]

KILLED_WRITER = """
    import sys, time
    from pathlib import Path
    from datetime import datetime, UTC
    from lifecycle.config import load_params
    from lifecycle.ledger.meter import MeteredRun, build_entry
    from lifecycle.ledger.pricing import Usage
    from lifecycle.ledger.queries import write_rows
    from lifecycle.ledger.session import writing
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
