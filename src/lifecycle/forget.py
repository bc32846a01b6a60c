"""Erasure of one person: their records removed from everything the project wrote, priced.

Logs and windows hold the person as a pseudonym (lifecycle.privacy); the DVC-tracked data
(data/raw, data/batches, data/validated, data/processed, data/reference) and quarantined
batches hold the id as it came. Every row of either kind is removed, the outcomes of the
removed predictions with them (joined on request id and record). The ledger gets one entry
per call, its note naming the pseudonym and the counts, never the id. The rule for raw data
(rewritten, then recorded as a new DVC version by the caller): docs/privacy.md.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lifecycle.config import Params
from lifecycle.ledger.meter import metered
from lifecycle.ledger.queries import iter_entries
from lifecycle.paths import Paths
from lifecycle.predictions import feedback_dir, predictions_dir
from lifecycle.privacy import project_key, pseudonym_of

ACTIVITY = "erasure_request"
RUN_NAME = "forget"
NOTE_PREFIX = "erasure of "
OUTCOME_DB = "outcomes.sqlite"
DATA_STAGES = ("ingest", "validate", "split")  # the DVC stages whose outputs hold raw ids


@dataclass(frozen=True)
class ForgetResult:
    """What one erasure removed, by store; the pseudonym stands for the person."""

    pseudonym: str
    removed: dict[str, int] = field(default_factory=dict)
    data_files: tuple[str, ...] = ()  # DVC-tracked files rewritten (a new data version)
    earlier: str | None = None  # when an earlier call already erased this person

    @property
    def total(self) -> int:
        """Rows removed in every store."""
        return sum(self.removed.values())

    @property
    def known(self) -> bool:
        """Whether the id was found now or erased before (False: never seen)."""
        return self.total > 0 or self.earlier is not None

    def note(self) -> str:
        """The ledger note: the pseudonym and the counts, never the id."""
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.removed.items()) if v)
        return f"{NOTE_PREFIX}{self.pseudonym}: {counts or 'nothing left to erase'}"


def forget(
    params: Params,
    paths: Paths,
    person_id: str,
    *,
    hours: float | None = None,
    phase: str = "maintenance",
    trigger: str = "manual",
) -> ForgetResult:
    """Remove every record of one id (idempotent) and record the erasure with its staff time."""
    alias = pseudonym_of(person_id, project_key(paths.root))
    earlier = _earlier_erasure(alias)
    with metered("job", RUN_NAME, phase, trigger, params=params, paths=paths) as run:
        result = erase(params, paths, person_id, alias)
        result = ForgetResult(alias, result.removed, result.data_files, earlier)
        run.note = result.note()
        if hours is not None:
            run.charge(ACTIVITY, hours=hours, role=_role(params))
        elif ACTIVITY in params.staffing.activities:
            run.charge(ACTIVITY)
    return result


def erase(params: Params, paths: Paths, person_id: str, alias: str) -> ForgetResult:
    """Remove the rows; feedback first, so a crash midway leaves the log to find them again."""
    id_col = params.data.id_column
    wanted = {alias, str(person_id)}
    keys = _logged_keys(predictions_dir(paths), id_col, wanted)
    removed = {
        "feedback_lines": _drop_feedback(feedback_dir(paths), keys),
        "outcome_index_rows": _drop_outcomes(feedback_dir(paths) / OUTCOME_DB, keys),
        "prediction_lines": _drop_lines(predictions_dir(paths), id_col, wanted),
        "simulation_rows": sum(
            _drop_rows(f, id_col, wanted) for f in _parquets(paths.data / "simulation")
        ),
    }
    changed: list[str] = []
    data_rows = 0
    for f in data_files(paths):
        n = _drop_rows(f, id_col, wanted)
        if n:
            data_rows += n
            changed.append(str(f.relative_to(paths.root)))
    removed["data_rows"] = data_rows
    return ForgetResult(alias, removed, tuple(changed))


def data_files(paths: Paths) -> list[Path]:
    """The parquet files that hold ids as they came: DVC-tracked data and quarantined batches."""
    folders = [paths.raw, paths.batches, paths.validated.parent, paths.train_set.parent,
               paths.reference.parent, paths.quarantine]  # fmt: skip
    return [f for d in folders for f in _parquets(d)]


def _parquets(folder: Path) -> list[Path]:
    """Every parquet file under a folder (none when it is absent)."""
    return sorted(folder.rglob("*.parquet")) if folder.is_dir() else []


def _jsonl(folder: Path) -> list[Path]:
    """Every JSON-lines file under a folder."""
    return sorted(folder.rglob("*.jsonl")) if folder.is_dir() else []


def _matches(line: dict[str, Any], id_col: str, wanted: set[str]) -> bool:
    """Whether a log line belongs to the person (by pseudonym, or a raw id of an older log)."""
    value = line.get(id_col)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value is not None and str(value) in wanted


def _lines(path: Path) -> Iterator[tuple[bytes, dict[str, Any]]]:
    """Each line of a JSON-lines file with its parsed object."""
    with path.open("rb") as fh:
        for raw in fh:
            if raw.strip():
                yield raw, json.loads(raw)


def _logged_keys(folder: Path, id_col: str, wanted: set[str]) -> set[tuple[str, int]]:
    """(request_id, record) of every prediction line of the person."""
    return {
        (str(obj["request_id"]), int(obj.get("record", 0)))
        for f in _jsonl(folder)
        for _, obj in _lines(f)
        if _matches(obj, id_col, wanted)
    }


def _rewrite_in_place(path: Path, keep: Any) -> int:
    """Rewrite a file keeping the lines `keep` accepts; the same inode, so a live writer's
    O_APPEND descriptor keeps appending to it. Retried if the file grew while being read."""
    while True:
        data = path.read_bytes()
        lines = data.splitlines(keepends=True)
        kept = [ln for ln in lines if not ln.strip() or keep(json.loads(ln))]
        if len(kept) == len(lines):
            return 0
        with path.open("r+b") as fh:
            fh.seek(0, 2)
            if fh.tell() != len(data):
                continue  # a line arrived meanwhile: read again
            fh.seek(0)
            fh.write(b"".join(kept))
            fh.truncate()
        return len(lines) - len(kept)


def _drop_lines(folder: Path, id_col: str, wanted: set[str]) -> int:
    """Remove the person's prediction lines from every log file."""
    return sum(
        _rewrite_in_place(f, lambda obj: not _matches(obj, id_col, wanted)) for f in _jsonl(folder)
    )


def _drop_feedback(folder: Path, keys: set[tuple[str, int]]) -> int:
    """Remove the outcome lines of the person's predictions."""
    if not keys:
        return 0

    def keep(obj: dict[str, Any]) -> bool:
        return (str(obj.get("request_id")), int(obj.get("record", 0))) not in keys

    return sum(_rewrite_in_place(f, keep) for f in _jsonl(folder))


def _drop_outcomes(db: Path, keys: set[tuple[str, int]]) -> int:
    """Remove the person's rows from the outcome index and its audit trail."""
    if not keys or not db.is_file():
        return 0
    deleted = 0
    with closing(sqlite3.connect(db, timeout=30)) as con, con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        for table in ("outcomes", "corrections"):
            if table in tables:
                for key in sorted(keys):
                    cur = con.execute(
                        f"DELETE FROM {table} WHERE request_id = ? AND record = ?",
                        key,
                    )
                    deleted += cur.rowcount
    return deleted


def _drop_rows(path: Path, id_col: str, wanted: set[str]) -> int:
    """Rewrite one parquet file without the person's rows (atomically); rows removed."""
    import pandas as pd

    frame = pd.read_parquet(path)
    if id_col not in frame.columns:
        return 0
    ids = frame[id_col].map(lambda v: None if v is None or v != v else _text(v))
    hit = ids.isin(wanted).to_numpy()
    if not hit.any():
        return 0
    tmp = path.with_name(path.name + ".tmp")
    frame[~hit].reset_index(drop=True).to_parquet(tmp, index=False)
    tmp.replace(path)
    return int(hit.sum())


def _text(value: Any) -> str:
    """An id as text, an integral float as its integer."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _earlier_erasure(alias: str) -> str | None:
    """When an earlier erasure of this pseudonym removed something (its start time), if ever."""
    from lifecycle.ledger.tables import tables

    _, entries, _ = tables()
    where = [entries.c.name == RUN_NAME, entries.c.note.like(f"{NOTE_PREFIX}{alias}:%")]
    for entry in iter_entries(where=where):
        if entry.note is not None and "nothing left to erase" not in entry.note:
            return entry.started_at.isoformat()
    return None


def _role(params: Params) -> str:
    """The role charged for explicit hours: the activity's if declared, else the first role."""
    declared = params.staffing.activities.get(ACTIVITY)
    return declared.role if declared is not None else next(iter(params.staffing.roles))
