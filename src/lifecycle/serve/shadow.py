"""Shadow scoring: the challenger scores live requests in the background, never answering.

The champion answers as always; when `serving.shadow` is on, its log entry goes to this
scorer's queue instead of straight to the prediction log. One background thread scores the
queued rows with the challenger and appends the entry with `shadow_version`, `shadow_score`
and `shadow_label` beside the champion's fields. What bounds the cost to the champion:

- a shadow model call starts only while the service is idle: no HTTP request in flight and
  no champion or canary model call running (`busy`), so a saturated service shadows nothing;
- each call is cut to the rows that take about `shadow_max_added_ms` (measured as it goes),
  so a champion request that arrives mid-call waits at most about that long for the CPU;
- a request not scored within `shadow_max_delay_seconds`, or arriving when
  `shadow_queue_rows` rows already wait, is logged without a shadow score (counted, never lost).

`lifecycle.comparison` reads the log back: agreement at the threshold, both score
distributions, and once outcomes arrive (POST /feedback), each model's campaign profit on the
same customers (GET /shadow reads it incrementally: `lifecycle.serve.shadow_lines`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from lifecycle.config import ServingParams
from lifecycle.serve.metrics import ServiceMetrics
from lifecycle.serve.model_holder import LoadedModel
from lifecycle.serve.predlog import Entry, PredictionLog
from lifecycle.serve.worker import Worker

log = logging.getLogger("lifecycle.serve.shadow")
IDLE_POLL_SECONDS = 0.001
FIRST_CHUNK_ROWS = 32
RESULTS = ("scored", "dropped", "late", "failed", "no_challenger", "shutdown")


@dataclass
class _Job:
    """One champion log entry waiting for its shadow scores."""

    entry: Entry
    queued: float


class ShadowScorer(Worker):
    """A queue and one thread that score the champion's requests with the challenger."""

    thread_name = "shadow-scorer"

    def __init__(
        self,
        params: ServingParams,
        sink: PredictionLog,
        label: Callable[[list[float]], list[Any]],
        challenger: Callable[[], LoadedModel | None],
        busy: Callable[[], bool],
        metrics: ServiceMetrics | None = None,
        idle: threading.Event | None = None,
    ) -> None:
        """Nothing starts here: `start` launches the thread; `idle` is set when busy() ends."""
        super().__init__()
        self.params, self.sink, self.label = params, sink, label
        self.challenger, self.busy, self.metrics = challenger, busy, metrics
        self.idle = idle
        self._jobs: deque[_Job] = deque()
        self._rows = 0
        self._per_row: float | None = None
        self.counts = dict.fromkeys(RESULTS, 0)
        self.agreed = 0

    def start(self) -> None:
        """Start the background thread (again after a stop)."""
        self._closed = False
        super().start()

    def submit(self, entry: Entry) -> None:
        """Queue an answered request for the shadow, or log it at once when the queue is full."""
        n = len(entry.rows)
        with self._cond:
            if self._thread is not None and self._rows + n <= self.params.shadow_queue_rows:
                self._jobs.append(_Job(entry, time.monotonic()))
                self._rows += n
                self._cond.notify()
                return
        self._finish([_Job(entry, 0.0)], None, "dropped")

    @property
    def pending(self) -> int:
        """Rows waiting for the shadow."""
        return self._rows

    def stop(self) -> None:
        """End the thread; what still waits is logged without shadow scores (nothing lost)."""
        self._halt()
        with self._cond:
            rest, self._rows = list(self._jobs), 0
            self._jobs.clear()
        if rest:
            self._finish(rest, None, "shutdown")

    def stats(self) -> dict[str, Any]:
        """Live counts since start (per worker): what GET /shadow shows beside the log report."""
        scored = self.counts["scored"]
        return {
            "enabled": self.params.shadow,
            "records": dict(self.counts),
            "pending_rows": self._rows,
            "agreement": self.agreed / scored if scored else None,
            "chunk_rows": self._chunk_rows(),
            "bounds": {
                "max_added_ms": self.params.shadow_max_added_ms,
                "max_delay_seconds": self.params.shadow_max_delay_seconds,
                "queue_rows": self.params.shadow_queue_rows,
            },
        }

    def _chunk_rows(self) -> int:
        """Rows one shadow call may take so that it lasts about shadow_max_added_ms."""
        if self._per_row is None:
            return FIRST_CHUNK_ROWS
        budget = self.params.shadow_max_added_ms / 1000
        return max(1, min(10_000, int(budget / self._per_row)))

    def _loop(self) -> None:
        """Take jobs, wait for the champion to be idle, score, log; until stopped."""
        while True:
            with self._cond:
                while not self._jobs and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                jobs = self._take()
            try:
                self._score(jobs)
            except Exception:  # a bug here must not stop the log: log unscored and go on
                log.exception("shadow scoring failed")
                self._finish(jobs, None, "failed")

    def _take(self) -> list[_Job]:
        """Jobs from the head of the queue: one, or several whose rows fit one chunk."""
        limit = self._chunk_rows()
        taken = [self._jobs.popleft()]
        total = len(taken[0].entry.rows)
        while self._jobs and total + len(self._jobs[0].entry.rows) <= limit:
            job = self._jobs.popleft()
            taken.append(job)
            total += len(job.entry.rows)
        self._rows -= total
        return taken

    def _score(self, jobs: list[_Job]) -> None:
        """Score the jobs' rows chunk by chunk, each chunk only while the champion is idle."""
        model = self.challenger()
        if model is None:
            self._finish(jobs, None, "no_challenger")
            return
        if not model.batchable and len(jobs) > 1:
            for job in jobs:
                self._score([job])
            return
        rows = [r for job in jobs for r in job.entry.rows]
        deadline = jobs[0].queued + self.params.shadow_max_delay_seconds
        scores: list[float] = []
        while len(scores) < len(rows):
            if not self._wait_idle(deadline):
                self._finish(jobs, None, "late")
                return
            chunk = rows[len(scores) : len(scores) + self._chunk_rows()]
            started = time.perf_counter()
            try:
                values = model.score(chunk).tolist()
            except Exception as err:
                log.warning("challenger v%s failed in the shadow: %s", model.version, err)
                self._finish(jobs, None, "failed")
                return
            self._learn(time.perf_counter() - started, len(chunk))
            scores.extend(values)
        self._finish(jobs, (model.version, scores), "scored")

    def _wait_idle(self, deadline: float) -> bool:
        """Wait until the service is idle; False once the deadline passes or on stop."""
        while self.busy():
            left = deadline - time.monotonic()
            if self._closed or left < 0:
                return False
            # sleep until the service says it is idle (no polling that competes for the GIL)
            if self.idle is None or self.idle.wait(min(left, 0.1)):
                time.sleep(IDLE_POLL_SECONDS)
        return not self._closed

    def _learn(self, seconds: float, rows: int) -> None:
        """Update the seconds-per-row estimate the chunk size comes from."""
        per_row = seconds / max(rows, 1)
        self._per_row = per_row if self._per_row is None else 0.7 * self._per_row + 0.3 * per_row

    def _finish(self, jobs: list[_Job], result: tuple[str, list[float]] | None, how: str) -> None:
        """Append each job's entry to the log, with its slice of shadow scores when there are."""
        start = 0
        for job in jobs:
            entry, n = job.entry, len(job.entry.rows)
            if result is not None:
                version, scores = result
                mine = scores[start : start + n]
                labels = self.label(mine)
                entry = replace(entry, shadow_version=version, shadow_scores=mine,
                                shadow_labels=labels)  # fmt: skip
                self.agreed += sum(a == b for a, b in zip(labels, entry.labels, strict=True))
            start += n
            self.counts[how] += n
            if self.metrics is not None:
                self.metrics.shadow.labels(how).inc(n)
            try:
                self.sink.append(entry)
            except RuntimeError:  # the log closed first: say so, do not kill the thread
                log.error("prediction log closed: %d shadowed prediction(s) not written", n)
