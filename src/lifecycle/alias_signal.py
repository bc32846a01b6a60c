"""The alias-moved signal: how a promote, approve or rollback reaches every serving worker at once.

Whoever moves a registry alias (`lifecycle.registry`, `lifecycle.environments`) calls
`announce`, which replaces one small file per model (`data/serving/<model>.alias-moved`,
written to a temp file and renamed, so a reader never sees half of it). Every worker of
`lifecycle.serve` looks at that file's identity every `serving.alias_watch_seconds` (one
`stat`, no registry call) and re-resolves its aliases when it changes; polling the registry
every `serving.poll_seconds` stays as the fallback (a remote registry moved by another
machine, a lost signal). Works for any number of services on the machine, with no registry
of services to keep up to date.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from lifecycle.paths import Paths

Stamp = tuple[int, int, int]


def signal_file(paths: Paths, model_name: str) -> Path:
    """The file whose every change means: an alias of this model moved."""
    return paths.data / "serving" / f"{model_name}.alias-moved"


def announce(paths: Paths, model_name: str, alias: str, version: str | None) -> None:
    """Tell every worker on this machine that an alias moved (atomic replace; never raises)."""
    target = signal_file(paths, model_name)
    body = {"model": model_name, "alias": alias, "version": version, "pid": os.getpid(),
            "time": datetime.now(UTC).isoformat(timespec="microseconds")}  # fmt: skip
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(body))
        os.replace(tmp, target)
    except OSError:  # the registry moved: workers still converge at their next poll
        return


def stamp(path: Path) -> Stamp | None:
    """The file's identity now (inode, mtime, size), or None when there is none."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def last_move(path: Path) -> dict[str, str | None] | None:
    """What the last announcement said (None when unreadable or absent)."""
    try:
        found: dict[str, str | None] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return found
