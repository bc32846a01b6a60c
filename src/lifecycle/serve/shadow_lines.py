"""The prediction log's shadowed lines, read incrementally, and their comparison for GET /shadow."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from lifecycle.comparison import Comparison, compare_frame
from lifecycle.config import Params
from lifecycle.paths import Paths
from lifecycle.predictions import feedback_dir, join_outcomes, read_lines

if TYPE_CHECKING:
    import pandas as pd


SHADOW_COLUMNS = (
    "request_id", "record", "time", "model_version", "shadow_version", "score", "shadow_score",
)  # fmt: skip


class ShadowedLines:
    """The prediction log's shadowed lines, read incrementally for GET /shadow.

    Each call reads only the bytes appended to each day file since the previous call, up to
    the last whole line (a line the writer is still appending waits for the next call), and
    keeps only the lines that carry a shadow score, and only the columns the comparison uses.
    A file that shrank (replaced or truncated) makes it read everything again.
    """

    def __init__(self, folder: Path) -> None:
        """Nothing is read until the first call."""
        self.folder = folder
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        """Forget every offset and every kept line."""
        self._offsets: dict[Path, int] = {}
        self._columns: dict[str, list[Any]] = {c: [] for c in SHADOW_COLUMNS}
        self.bytes_read = 0

    def frame(self) -> pd.DataFrame:
        """Every shadowed line logged so far, one row each."""
        import pandas as pd

        with self._lock:
            files = sorted(self.folder.rglob("*.jsonl")) if self.folder.exists() else []
            sizes = {f: f.stat().st_size for f in files}
            if any(sizes.get(f, -1) < end for f, end in self._offsets.items()):
                self._reset()
            for path, size in sizes.items():
                self._read_new(path, size)
            return pd.DataFrame({c: list(v) for c, v in self._columns.items()})

    def _read_new(self, path: Path, size: int) -> None:
        """Keep the shadowed lines appended to one file since the last read."""
        start = self._offsets.get(path, 0)
        if size <= start:
            return
        with path.open("rb") as fh:
            fh.seek(start)
            chunk = fh.read(size - start)
        end = chunk.rfind(b"\n") + 1
        self.bytes_read += end
        self._offsets[path] = start + end
        for line in chunk[:end].splitlines():
            if b'"shadow_score"' not in line:  # a reserved key: no feature is named so
                continue
            record = orjson.loads(line)
            for column, values in self._columns.items():
                values.append(record.get(column))


def compare_logged(params: Params, paths: Paths, lines: ShadowedLines) -> list[Comparison]:
    """`compare`, reading only what the log gained since the last call (feedback in full)."""
    shadowed = lines.frame()
    if shadowed.empty:
        return []
    return compare_frame(params, join_outcomes(shadowed, read_lines(feedback_dir(paths))))
