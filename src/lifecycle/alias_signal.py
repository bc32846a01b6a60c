"""The alias-moved signal: how a promote, approve or rollback reaches every serving worker at once.

Whoever moves a registry alias (`lifecycle.registry`, `lifecycle.environments`) calls
`announce`, which replaces one small file per model (`data/serving/<model>.alias-moved`,
written to a temp file and renamed, so a reader never sees half of it; each announcement
carries a fresh nonce). Every worker of `lifecycle.serve` reads that file (a hundred bytes, no
registry call) every `serving.alias_watch_seconds` and re-resolves its aliases when its
content changed (content, not mtime: two moves within one timestamp tick are both seen);
polling the registry every `serving.poll_seconds` stays as the fallback (a remote registry
moved by another machine, a lost signal). Works for any number of services on the machine,
with no registry of services to keep up to date.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path

from lifecycle.paths import Paths

Stamp = bytes


def signal_file(paths: Paths, model_name: str) -> Path:
    """The file whose every change means: an alias of this model moved."""
    return paths.data / "serving" / f"{model_name}.alias-moved"


def announce(paths: Paths, model_name: str, alias: str, version: str | None) -> None:
    """Tell every worker on this machine that an alias moved (atomic replace; never raises)."""
    target = signal_file(paths, model_name)
    body = {"model": model_name, "alias": alias, "version": version, "pid": os.getpid(),
            "time": datetime.now(UTC).isoformat(timespec="microseconds"),
            "nonce": uuid.uuid4().hex}  # fmt: skip
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(body))
        os.replace(tmp, target)
    except OSError:  # the registry moved: workers still converge at their next poll
        return


def stamp(path: Path) -> Stamp | None:
    """The file's content now (it changes with every announcement), or None when there is none."""
    try:
        return path.read_bytes()
    except OSError:
        return None


def last_move(path: Path) -> dict[str, str | None] | None:
    """What the last announcement said (None when unreadable or absent)."""
    try:
        found: dict[str, str | None] = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return found
