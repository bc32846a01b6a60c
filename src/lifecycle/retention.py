"""Retention: prediction-log and feedback days older than `privacy.retention_days` are deleted.

Both logs are day partitions (`date=YYYY-MM-DD`, lifecycle.predictions), so a day past the
period goes as a whole folder; the outcome index (`outcomes.sqlite`) loses the rows written
before the cut-off, so it never answers "already recorded" for an outcome whose line is gone.
The flow that runs it on a schedule: lifecycle.orchestration.flows_privacy.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from lifecycle.paths import Paths
from lifecycle.predictions import feedback_dir, predictions_dir

DAY_PREFIX = "date="
OUTCOME_DB = "outcomes.sqlite"


@dataclass(frozen=True)
class RetentionResult:
    """What one pass deleted (nothing when the period is null)."""

    retention_days: int | None
    cutoff: str | None  # the first day kept (ISO date)
    days_deleted: int
    files_deleted: int
    outcome_rows_deleted: int


def day_of(folder: Path) -> date | None:
    """The day a partition folder holds, or None for anything else."""
    if not folder.is_dir() or not folder.name.startswith(DAY_PREFIX):
        return None
    try:
        return date.fromisoformat(folder.name[len(DAY_PREFIX) :])
    except ValueError:
        return None


def expired(folder: Path, cutoff: date) -> list[Path]:
    """The day partitions of a log folder before the cut-off, oldest first."""
    if not folder.is_dir():
        return []
    found = [(d, p) for p in folder.iterdir() if (d := day_of(p)) is not None and d < cutoff]
    return [p for _, p in sorted(found)]


def prune(paths: Paths, retention_days: int | None, today: date | None = None) -> RetentionResult:
    """Delete log days older than the period (kept: the last `retention_days` days, today too)."""
    if retention_days is None:
        return RetentionResult(None, None, 0, 0, 0)
    today = today or datetime.now(UTC).date()
    cutoff = today - timedelta(days=retention_days)
    days = files = 0
    for folder in (predictions_dir(paths), feedback_dir(paths)):
        for day in expired(folder, cutoff):
            files += sum(1 for f in day.rglob("*") if f.is_file())
            shutil.rmtree(day)
            days += 1
    rows = _prune_outcomes(feedback_dir(paths) / OUTCOME_DB, cutoff)
    return RetentionResult(retention_days, cutoff.isoformat(), days, files, rows)


def _prune_outcomes(db: Path, cutoff: date) -> int:
    """Delete indexed outcomes and corrections recorded before the cut-off day (UTC)."""
    if not db.is_file():
        return 0
    first_kept = datetime(cutoff.year, cutoff.month, cutoff.day, tzinfo=UTC).isoformat()
    with closing(sqlite3.connect(db, timeout=30)) as con, con:
        deleted = 0
        for table in ("outcomes", "corrections"):
            exists = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
            ).fetchone()
            if exists:
                cur = con.execute(f"DELETE FROM {table} WHERE time < ?", (first_kept,))
                deleted += cur.rowcount
    return deleted
