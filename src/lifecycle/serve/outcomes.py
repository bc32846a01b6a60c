"""Outcomes written once, corrected explicitly: the store behind POST and PUT /feedback.

An outcome for (request_id, record) is accepted once; sending it again is a conflict, and
changing it is a correction that names its reason and is audited (who, when, the old and the
new outcome). The feed monitoring and retraining read stays the JSON-lines files of
`lifecycle.predictions` (one line per outcome, one more per correction, the latest winning);
a small SQLite file beside them (`outcomes.sqlite`) is the index that makes "once" hold
across every worker process (its write lock serialises them) and keeps the audit trail.
The line is appended before the index commits: a crash between the two leaves an outcome in
the feed that the index does not know, which a resend then records again (same key, latest
wins), never an indexed outcome missing from the feed.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lifecycle.paths import Paths
from lifecycle.predictions import day_file, feedback_dir

SCHEMA = """
CREATE TABLE IF NOT EXISTS outcomes (
    request_id TEXT NOT NULL, record INTEGER NOT NULL, outcome TEXT NOT NULL,
    time TEXT NOT NULL, by TEXT NOT NULL, PRIMARY KEY (request_id, record));
CREATE TABLE IF NOT EXISTS corrections (
    request_id TEXT NOT NULL, record INTEGER NOT NULL, previous TEXT NOT NULL,
    outcome TEXT NOT NULL, reason TEXT NOT NULL, by TEXT NOT NULL, time TEXT NOT NULL);
"""


class OutcomeConflictError(Exception):
    """Outcomes that already exist (or repeat within one body): nothing of the body is kept."""

    def __init__(self, keys: Sequence[tuple[str, int]]) -> None:
        """Name the first few (request_id, record) pairs."""
        shown = ", ".join(f"{r}#{i}" for r, i in keys[:5])
        more = f" and {len(keys) - 5} more" if len(keys) > 5 else ""
        super().__init__(
            f"an outcome is already recorded for {shown}{more}: outcomes are written once; "
            "send a correction (PUT /feedback/{request_id} with a reason) to change one"
        )
        self.keys = list(keys)


class NoOutcomeError(Exception):
    """A correction of an outcome that was never recorded."""


@dataclass(frozen=True)
class Correction:
    """One audited change of an outcome."""

    request_id: str
    record: int
    previous: Any
    outcome: Any
    reason: str
    by: str
    time: str


class OutcomeStore:
    """The write-once index and audit trail of outcomes, shared by every worker of a project."""

    def __init__(self, paths: Paths) -> None:
        """Files under the project's feedback folder (made on first write)."""
        self.folder = feedback_dir(paths)
        self.db = self.folder / "outcomes.sqlite"

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """A connection holding the database's write lock until commit (or rollback)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.db, timeout=30, isolation_level=None)) as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)
            con.execute("BEGIN IMMEDIATE")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    def record(self, items: Sequence[dict[str, Any]], by: str) -> int:
        """Record new outcomes, all or none (OutcomeConflictError names those already there)."""
        keys = [(str(it["request_id"]), int(it.get("record", 0))) for it in items]
        seen: set[tuple[str, int]] = set()
        repeated = [k for k in keys if k in seen or seen.add(k)]  # type: ignore[func-returns-value]
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        with self._writing() as con:
            found = [k for k in keys if _get(con, k) is not None]
            if found or repeated:
                raise OutcomeConflictError(found or repeated)
            self._append([{"request_id": r, "record": i, "outcome": it["outcome"], "time": now}
                          for (r, i), it in zip(keys, items, strict=True)])  # fmt: skip
            con.executemany(
                "INSERT INTO outcomes VALUES (?, ?, ?, ?, ?)",
                [
                    (r, i, json.dumps(it["outcome"]), now, by)
                    for (r, i), it in zip(keys, items, strict=True)
                ],
            )
        return len(items)

    def correct(
        self, request_id: str, record: int, outcome: Any, reason: str, by: str
    ) -> Correction:
        """Replace one recorded outcome, with its reason, audited (NoOutcomeError when none is)."""
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        with self._writing() as con:
            old = _get(con, (request_id, record))
            if old is None:
                raise NoOutcomeError(
                    f"no outcome is recorded for {request_id}#{record}: post it with "
                    "POST /feedback first (a correction changes an existing outcome)"
                )
            fix = Correction(request_id, record, json.loads(old), outcome, reason, by, now)
            self._append([{"request_id": request_id, "record": record, "outcome": outcome,
                           "time": now, "correction": True, "reason": reason,
                           "previous": fix.previous, "by": by}])  # fmt: skip
            con.execute(
                "UPDATE outcomes SET outcome = ?, time = ?, by = ? "
                "WHERE request_id = ? AND record = ?",
                (json.dumps(outcome), now, by, request_id, record),
            )
            con.execute(
                "INSERT INTO corrections VALUES (?, ?, ?, ?, ?, ?, ?)",
                (request_id, record, old, json.dumps(outcome), reason, by, now),
            )
        return fix

    def history(self, request_id: str) -> list[Correction]:
        """Every correction of a request's outcomes, oldest first."""
        if not self.db.is_file():
            return []
        with closing(sqlite3.connect(self.db, timeout=30)) as con:
            con.executescript(SCHEMA)
            rows = con.execute(
                "SELECT request_id, record, previous, outcome, reason, by, time FROM corrections "
                "WHERE request_id = ? ORDER BY time",
                (request_id,),
            ).fetchall()
        return [Correction(r, i, json.loads(p), json.loads(o), why, by, t)
                for r, i, p, o, why, by, t in rows]  # fmt: skip

    def _append(self, lines: list[dict[str, Any]]) -> None:
        """Append lines to this process's feedback file of the day (flushed before returning)."""
        target: Path = day_file(self.folder, "feedback", datetime.now(UTC))
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("a", encoding="utf-8") as fh:
            fh.write("".join(json.dumps(x) + "\n" for x in lines))


def _get(con: sqlite3.Connection, key: tuple[str, int]) -> str | None:
    """The recorded outcome (JSON text) of one (request_id, record), or None."""
    row = con.execute(
        "SELECT outcome FROM outcomes WHERE request_id = ? AND record = ?", key
    ).fetchone()
    return None if row is None else str(row[0])
