"""The prediction log's writer: every prediction appended, one file per day.

The layout of the files and how feedback joins them: `lifecycle.predictions` (their readers).
An answer of the API is written before it leaves (`write_now`: one `write` to a file opened
with O_APPEND, so the lines are in the kernel's page cache and survive `kill -9` of the
worker; see docs/serving-durability.md for what a power loss can still take). Shadowed
requests and offline scoring use `append`: an in-memory list a writer thread formats and
appends every `log_flush_seconds` (or when `log_buffer_rows` are waiting), in moments when no
request is in flight if it can, and `close` flushes everything on graceful shutdown.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from lifecycle.predictions import day_file
from lifecycle.serve.worker import Worker

log = logging.getLogger(__name__)
CHUNK_ROWS = 1_000  # lines formatted between two looks at whether a request came in


@dataclass(frozen=True)
class Entry:
    """One answered request: what the writer turns into one line per record."""

    request_id: str
    time: datetime
    model_version: str
    rows: list[dict[str, Any]]
    scores: list[float]
    labels: list[Any]
    source: str
    records: list[int] | None = None  # each row's index in the request (None: 0, 1, ...)
    variant: str | None = None
    shadow_version: str | None = None
    shadow_scores: list[float] | None = None
    shadow_labels: list[Any] | None = None
    correlation_id: str | None = None  # the caller's X-Request-ID, kept beside the server's id
    flags: list[str | None] | None = None  # per record: the contract rules it breaks, if any


class PredictionLog(Worker):
    """Append-only, day-partitioned JSON lines, written by a background thread."""

    thread_name = "prediction-log"

    def __init__(
        self,
        folder: Path,
        flush_seconds: float = 1.0,
        buffer_rows: int = 20_000,
        idle: threading.Event | None = None,
    ) -> None:
        """The writer thread starts with `start`; `idle` is set while no request is in flight."""
        super().__init__()
        self.folder = folder
        self.idle = idle
        self.flush_seconds = flush_seconds
        self.buffer_rows = buffer_rows
        self._pending: list[Entry] = []
        self._pending_rows = 0
        self.appended = 0
        self.written = 0
        self.errors = 0
        self._files: dict[Path, int] = {}  # day file -> O_APPEND descriptor (write_now)
        self._files_lock = threading.Lock()

    def write_now(self, entries: list[Entry]) -> None:
        """Write these entries' lines before returning (one write per day file; raises OSError).

        Called before an answer leaves: a process killed after this has its lines in the page
        cache. Concurrent callers never interleave lines (one O_APPEND write each).
        """
        by_file: dict[Path, list[bytes]] = {}
        for entry in entries:
            by_file.setdefault(day_file(self.folder, "predictions", entry.time), []).extend(
                format_entry(entry)
            )
        for target, lines in by_file.items():
            data = b"".join(lines)
            fd = self._fd(target)
            while data:
                data = data[os.write(fd, data) :]
            self.appended += len(lines)
            self.written += len(lines)

    def _fd(self, target: Path) -> int:
        """The open O_APPEND descriptor of a day file (older days' are closed)."""
        fd = self._files.get(target)
        if fd is not None:
            return fd
        with self._files_lock:
            fd = self._files.get(target)
            if fd is None:
                target.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                for old in [p for p in self._files if p.parent != target.parent]:
                    os.close(self._files.pop(old))
                self._files[target] = fd
            return fd

    def append(self, entry: Entry) -> None:
        """Queue one request's predictions; never touches the disk on the caller's thread."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the prediction log is closed")
            self._pending.append(entry)
            self._pending_rows += len(entry.rows)
            self.appended += len(entry.rows)
            if self._pending_rows >= self.buffer_rows:
                self._cond.notify()

    @property
    def pending(self) -> int:
        """Rows not yet on disk: queued, or taken by a flush still formatting them."""
        return self.appended - self.written - self.errors

    def close(self) -> None:
        """Flush what is queued and stop the writer (graceful shutdown)."""
        self._halt()
        self.flush()
        with self._files_lock:
            for fd in self._files.values():
                os.close(fd)
            self._files.clear()

    def _loop(self) -> None:
        """Wake every flush interval (or when the buffer fills) and write."""
        while True:
            with self._cond:
                if not self._closed:
                    self._cond.wait(self.flush_seconds)
                closed = self._closed
            self.flush()
            if closed:
                return

    def flush(self) -> None:
        """Write every queued entry now (one open per day file), formatted in quiet moments.

        With an `idle` event, each chunk of lines is formatted while no request is being
        answered, or once the flush has waited one interval: formatting holds the GIL, and a
        request that arrives meanwhile should not wait for ten thousand lines. A graceful
        shutdown does not wait.
        """
        with self._cond:
            batch, self._pending, self._pending_rows = self._pending, [], 0
        if not batch:
            return
        deadline = time.monotonic() + self.flush_seconds
        by_file: dict[Path, list[bytes]] = {}
        for entry in batch:
            lines = by_file.setdefault(day_file(self.folder, "predictions", entry.time), [])
            for chunk in _chunks(entry, CHUNK_ROWS):
                self._wait_quiet(deadline)
                lines.extend(format_entry(chunk))
        for target, lines in by_file.items():
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("ab") as fh:
                    fh.write(b"".join(lines))
                self.written += len(lines)
            except OSError:
                self.errors += len(lines)
                log.exception("could not write %d prediction(s) to %s", len(lines), target)

    def _wait_quiet(self, deadline: float) -> None:
        """Until no request is in flight, the deadline passes, or the log is closing."""
        if self.idle is not None and not self._closed:
            self.idle.wait(max(0.0, deadline - time.monotonic()))


def _chunks(entry: Entry, size: int) -> Iterator[Entry]:
    """The entry in pieces of at most `size` records (itself when small)."""
    n = len(entry.rows)
    if n <= size:
        yield entry
        return
    records = entry.records or range(n)
    for a in range(0, n, size):
        cut = slice(a, a + size)
        yield replace(
            entry,
            rows=entry.rows[cut],
            scores=entry.scores[cut],
            labels=entry.labels[cut],
            records=list(records[cut]),
            shadow_scores=None if entry.shadow_scores is None else entry.shadow_scores[cut],
            shadow_labels=None if entry.shadow_labels is None else entry.shadow_labels[cut],
            flags=None if entry.flags is None else entry.flags[cut],
        )


def format_entry(entry: Entry) -> list[bytes]:
    """One JSON line per record of a request, the request's shared fields encoded once.

    Per line only the record's index, score, label (and shadow score) and its features are
    encoded; building one dict per line held the writer thread on the GIL five times longer,
    which a 10,000-record request's successor paid for. Feature names never clash with these
    keys (`config.LOG_FIELDS` are refused as column names).
    """
    dumps = orjson.dumps
    shared: dict[str, Any] = {
        "request_id": entry.request_id,
        "time": entry.time.astimezone(UTC).isoformat(timespec="microseconds"),
        "model_version": entry.model_version,
        "source": entry.source,
    }
    if entry.variant is not None:
        shared["variant"] = entry.variant
    if entry.correlation_id is not None:
        shared["correlation_id"] = entry.correlation_id
    shadow = entry.shadow_scores is not None and entry.shadow_labels is not None
    if shadow:
        shared["shadow_version"] = entry.shadow_version
    head = dumps(shared)[:-1] + b',"record":'
    index = entry.records or range(len(entry.rows))
    rows = zip(index, entry.rows, entry.scores, entry.labels, strict=True)
    if entry.flags is not None and any(entry.flags):
        flags = [b"" if f is None else b',"out_of_contract":' + dumps(f) for f in entry.flags]
        lines = [
            b'%s%d,"score":%s,"label":%s%s%s\n'
            % (head, i, dumps(s), dumps(lab), flag, _rest(dumps(row)))
            for (i, row, s, lab), flag in zip(rows, flags, strict=True)
        ]
        return lines if not shadow else _with_shadow(lines, entry)
    if not shadow:
        return [
            b'%s%d,"score":%s,"label":%s%s\n' % (head, i, dumps(s), dumps(lab), _rest(dumps(row)))
            for i, row, s, lab in rows
        ]
    extra = zip(entry.shadow_scores or (), entry.shadow_labels or (), strict=True)
    return [
        b'%s%d,"score":%s,"label":%s,"shadow_score":%s,"shadow_label":%s%s\n'
        % (head, i, dumps(s), dumps(lab), dumps(ss), dumps(sl), _rest(dumps(row)))
        for (i, row, s, lab), (ss, sl) in zip(rows, extra, strict=True)
    ]


def _with_shadow(lines: list[bytes], entry: Entry) -> list[bytes]:
    """Flagged lines with the shadow's score and label added (the rare path: re-encoded)."""
    out = []
    for line, ss, sl in zip(lines, entry.shadow_scores or (), entry.shadow_labels or (),
                            strict=True):  # fmt: skip
        one = orjson.loads(line)
        one.update(shadow_score=ss, shadow_label=sl)
        out.append(orjson.dumps(one) + b"\n")
    return out


def _rest(encoded: bytes) -> bytes:
    """An encoded object's members after a comma, with its closing brace (`}` when empty)."""
    return b"," + encoded[1:] if len(encoded) > 2 else b"}"
