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

`compare` reads the log back: agreement at the threshold, both score distributions, and once
outcomes arrive (POST /feedback), each model's campaign profit on the same customers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from lifecycle.config import Params, ServingParams
from lifecycle.paths import Paths
from lifecycle.serve.predlog import Entry, PredictionLog

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from lifecycle.serve.metrics import ServiceMetrics
    from lifecycle.serve.model_holder import LoadedModel

log = logging.getLogger("lifecycle.serve.shadow")
IDLE_POLL_SECONDS = 0.001
FIRST_CHUNK_ROWS = 32
RESULTS = ("scored", "dropped", "late", "failed", "no_challenger", "shutdown")


@dataclass
class _Job:
    """One champion log entry waiting for its shadow scores."""

    entry: Entry
    queued: float


class ShadowScorer:
    """A queue and one thread that score the champion's requests with the challenger."""

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
        self.params, self.sink, self.label = params, sink, label
        self.challenger, self.busy, self.metrics = challenger, busy, metrics
        self.idle = idle
        self._jobs: deque[_Job] = deque()
        self._rows = 0
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._per_row: float | None = None
        self.counts = dict.fromkeys(RESULTS, 0)
        self.agreed = 0

    def start(self) -> None:
        """Start the background thread."""
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="shadow-scorer", daemon=True)
        self._thread.start()

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
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
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


@dataclass(frozen=True)
class Summary:
    """One model's score distribution on the shadowed rows."""

    mean: float
    std: float
    p10: float
    p50: float
    p90: float
    positive_rate: float


@dataclass(frozen=True)
class Comparison:
    """Champion vs challenger on the same live requests, and on their outcomes once known."""

    champion_version: str
    challenger_version: str
    rows: int
    first: str
    last: str
    threshold: float
    agreement: float
    mean_abs_difference: float
    correlation: float | None
    champion: Summary
    challenger: Summary
    labelled_rows: int
    champion_profit: float | None
    challenger_profit: float | None
    favours: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def _summary(scores: Any, threshold: float) -> Summary:
    """Mean, spread, deciles and the share labelled positive."""
    import numpy as np

    s = np.asarray(scores, dtype=np.float64)
    p10, p50, p90 = (float(x) for x in np.quantile(s, [0.1, 0.5, 0.9]))
    return Summary(float(s.mean()), float(s.std()), p10, p50, p90, float((s >= threshold).mean()))


def compare(params: Params, paths: Paths) -> list[Comparison]:
    """Every (champion, challenger) pair in the prediction log, newest first."""
    from lifecycle.serve.predlog import labelled

    frame = labelled(paths)
    return compare_frame(params, frame)


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
        import orjson

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
    from lifecycle.serve.predlog import feedback_dir, join_outcomes, read_lines

    shadowed = lines.frame()
    if shadowed.empty:
        return []
    return compare_frame(params, join_outcomes(shadowed, read_lines(feedback_dir(paths))))


def compare_frame(params: Params, frame: pd.DataFrame) -> list[Comparison]:
    """The comparison of a prediction-log frame (with an outcome column, may be null)."""
    if frame.empty or "shadow_score" not in frame.columns:
        return []
    shadowed = frame[frame["shadow_score"].notna()].copy()
    shadowed["model_version"] = shadowed["model_version"].astype(str)
    shadowed["shadow_version"] = shadowed["shadow_version"].astype(str)
    out = [
        _compare_pair(params, str(champ), str(chall), group)
        for (champ, chall), group in shadowed.groupby(["model_version", "shadow_version"])
    ]
    return sorted(out, key=lambda c: c.last, reverse=True)


def _compare_pair(params: Params, champ: str, chall: str, rows: pd.DataFrame) -> Comparison:
    """One pair's agreement, distributions and, with enough outcomes, campaign profit."""
    import numpy as np

    threshold = params.serving.threshold or params.train.threshold
    a = rows["score"].to_numpy(dtype=np.float64)
    b = rows["shadow_score"].to_numpy(dtype=np.float64)
    corr = float(np.corrcoef(a, b)[0, 1]) if len(a) > 1 and a.std() > 0 and b.std() > 0 else None
    money = _profits(params, rows)
    times = rows["time"].astype(str)
    return Comparison(
        champ, chall, len(rows), times.min(), times.max(), threshold,
        float(((a >= threshold) == (b >= threshold)).mean()),
        float(np.abs(a - b).mean()), corr,
        _summary(a, threshold), _summary(b, threshold),
        money.labelled, money.champion, money.challenger, money.favours, money.reason,
    )  # fmt: skip


@dataclass(frozen=True)
class _Profits:
    """Campaign profit of each model on the labelled shadowed rows, and the verdict."""

    labelled: int
    champion: float | None
    challenger: float | None
    favours: str
    reason: str


def _profits(params: Params, rows: pd.DataFrame) -> _Profits:
    """Each model's campaign profit on the labelled shadowed rows, and which one it favours."""
    import numpy as np

    from lifecycle.metrics import campaign_profit

    if "outcome" not in rows.columns:
        rows = rows.assign(outcome=None)
    known = rows[rows["outcome"].notna()]
    n, need = len(known), params.serving.shadow_min_labelled
    if n < need:
        why = f"waiting for outcomes: {n} of serving.shadow_min_labelled {need} labelled rows"
        return _Profits(n, None, None, "undecided", why)
    y = (known["outcome"].astype(str) == str(params.data.positive_label)).to_numpy(dtype=float)
    champ = campaign_profit(y, known["score"].to_numpy(dtype=np.float64), params.campaign)
    chall = campaign_profit(y, known["shadow_score"].to_numpy(dtype=np.float64), params.campaign)
    gap = chall - champ
    favours = "challenger" if gap > 0 else "champion" if gap < 0 else "undecided"
    cur = params.prices.currency
    why = (
        f"on {n} labelled customers the challenger's campaign earns {chall:,.0f} {cur} and the "
        f"champion's {champ:,.0f} {cur} ({gap:+,.0f} {cur} for the challenger)"
    )
    return _Profits(n, champ, chall, favours, why)
