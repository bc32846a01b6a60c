"""Retention deletes log days past the period, and the outcome index rows written before it."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from lifecycle.paths import Paths
from lifecycle.retention import prune

TODAY = date(2026, 12, 1)


def _day(folder: Path, day: str, stem: str) -> None:
    """One day partition with one file."""
    (folder / f"date={day}").mkdir(parents=True)
    (folder / f"date={day}" / f"{stem}-1.jsonl").write_text('{"request_id": "r"}\n')


def test_days_before_the_cutoff_go_the_rest_stay(tmp_path: Path) -> None:
    """30 days: 2026-11-01 is the first day kept; older days and index rows are deleted."""
    paths = Paths(tmp_path)
    preds, fb = paths.predictions, paths.data / "feedback"
    for day in ("2026-10-01", "2026-10-31", "2026-11-01", "2026-12-01"):
        _day(preds, day, "predictions")
    _day(fb, "2026-10-15", "feedback")
    (preds / "notes").mkdir()  # not a day partition: never touched
    with sqlite3.connect(fb / "outcomes.sqlite") as con:
        con.execute("CREATE TABLE outcomes (request_id, record, outcome, time, by)")
        con.execute("CREATE TABLE corrections (request_id, record, previous, outcome, "
                    "reason, by, time)")  # fmt: skip
        con.execute("INSERT INTO outcomes VALUES ('a', 0, 'Yes', '2026-10-31T23:59:59+00:00', 'x')")
        con.execute("INSERT INTO outcomes VALUES ('b', 0, 'No', '2026-11-01T00:00:00+00:00', 'x')")
    result = prune(paths, 30, today=TODAY)
    assert result.cutoff == "2026-11-01"
    assert (result.days_deleted, result.files_deleted, result.outcome_rows_deleted) == (3, 3, 1)
    assert sorted(p.name for p in preds.iterdir()) == [
        "date=2026-11-01",
        "date=2026-12-01",
        "notes",
    ]
    assert not (fb / "date=2026-10-15").exists()
    with sqlite3.connect(fb / "outcomes.sqlite") as con:
        assert con.execute("SELECT request_id FROM outcomes").fetchall() == [("b",)]
    again = prune(paths, 30, today=TODAY)  # idempotent
    assert (again.days_deleted, again.outcome_rows_deleted) == (0, 0)


def test_no_period_keeps_everything(tmp_path: Path) -> None:
    """retention_days null: nothing deleted; an absent log is not an error."""
    paths = Paths(tmp_path)
    _day(paths.predictions, "2000-01-01", "predictions")
    assert prune(paths, None, today=TODAY).days_deleted == 0
    assert (paths.predictions / "date=2000-01-01").is_dir()
    assert prune(Paths(tmp_path / "empty"), 1, today=TODAY).days_deleted == 0
