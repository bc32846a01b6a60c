"""Reading the reference and a window (batch file, prediction log file or folder) as frames."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from lifecycle.monitor.errors import MonitorError

SCORE_COLUMN = "score"

WINDOW_SUFFIXES = (".parquet", ".pq", ".jsonl", ".json")


def require_columns(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """Fail with the missing column names when a frame lacks a feature."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise MonitorError(
            f"{what}: columns missing {missing}; every feature in params data.numeric and "
            f"data.categorical is required (found {sorted(map(str, frame.columns))[:30]})"
        )


def load_reference(path: Path) -> pd.DataFrame:
    """Read the reference parquet, or fail naming the path."""
    if not path.is_file():
        raise MonitorError(
            f"reference: file {str(path)!r} does not exist (run the features stage first)"
        )
    return pd.read_parquet(path)


def window_files(path: Path) -> list[Path]:
    """The parquet / JSON-lines files of a window: the file itself or every one under a folder."""
    if path.is_file():
        if path.suffix.lower() not in WINDOW_SUFFIXES:
            raise MonitorError(
                f"window: {str(path)!r} has suffix {path.suffix!r}; expected one of "
                f"{list(WINDOW_SUFFIXES)}"
            )
        return [path]
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in WINDOW_SUFFIXES
        )
        if not files:
            raise MonitorError(
                f"window: folder {str(path)!r} holds no {'/'.join(WINDOW_SUFFIXES)} files"
            )
        return files
    raise MonitorError(f"window: {str(path)!r} does not exist")


def load_window(path: Path) -> pd.DataFrame:
    """Read a batch file, or a prediction log file or folder (parquet / JSON lines) as one frame."""
    frames = []
    for f in window_files(path):
        if f.suffix.lower() in (".parquet", ".pq"):
            frames.append(pd.read_parquet(f))
        elif f.stat().st_size:
            try:
                frames.append(pd.read_json(f, lines=True))
            except ValueError:  # pandas refuses valid subnormal floats (1e-310): stdlib reads them
                frames.append(_read_jsonl_strictly(f))
    frames = [f for f in frames if len(f)]
    if not frames:
        raise MonitorError(f"window: {str(path)!r} has no rows")
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _read_jsonl_strictly(path: Path) -> pd.DataFrame:
    """JSON lines through the standard parser; a line that is not JSON is named."""
    rows = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError as err:
                raise MonitorError(
                    f"window: {str(path)!r} is not JSON lines: line {number}: {err}"
                ) from None
    return pd.DataFrame.from_records(rows)


def window_name(path: Path) -> str:
    """A file-safe name for the report, from the file's stem or the folder's name."""
    stem = path.stem if path.is_file() else path.name
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._") or "window"
