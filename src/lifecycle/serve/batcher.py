"""Micro-batching: concurrent small requests share one model call.

Under load, many one-record requests wait on the same event loop. Instead of one model call
each, the batcher queues them; one consumer task takes whatever queued (up to
`batch_max_rows` rows, optionally after waiting `batch_wait_ms` for more), groups the rows
by the model object each request started with (so a hot swap never moves a request to another
version), scores each group in one call in a worker thread (or on the event loop itself when
the batch is so small that the call costs less than the hand-off to a thread, see
`LoadedModel.inline_rows`), and hands every request its own slice. Requests at least
`batch_max_rows` long, and every request of a model whose scores depend on batch composition
(see `fastpath.batch_invariant`), skip the queue and run alone in a thread, so each request's
scores equal the pipeline's on that request's own rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.serve.model_holder import LoadedModel

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

log = logging.getLogger(__name__)
WIDE_ROWS = 2_000  # a request this large may use every core for its model call


def score_alone(model: LoadedModel, rows: list[dict[str, Any]]) -> FloatArray:
    """One request's model call; a large one gets every core's OpenMP threads.

    The service runs one OpenMP thread per call (`serve.threads.one_model_thread`) so that small
    concurrent calls never spin against the event loop; a 10,000-row request alone gains from
    all cores. The limit is raised for this worker thread only (OpenMP keeps it per thread)
    and restored after the call.
    """
    if len(rows) < WIDE_ROWS:
        return model.score(rows)
    with _controller().limit(limits=os.cpu_count() or 1, user_api="openmp"):
        return model.score(rows)


@functools.cache
def _controller() -> Any:
    """The process's thread pools, found once: looking them up costs about 4 ms a call.

    Built at the first large request, after the model's libraries (OpenMP) are loaded.
    """
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@dataclass
class _Job:
    """One request's rows, the model it started with and where its scores go."""

    model: LoadedModel
    rows: list[dict[str, Any]]
    done: asyncio.Future[FloatArray]


class MicroBatcher:
    """Queue small scoring jobs and run them together, one model call per model."""

    def __init__(self, max_rows: int, wait_seconds: float) -> None:
        """No task starts here: `start` runs inside the app's event loop."""
        self.max_rows = max_rows
        self.wait_seconds = wait_seconds
        self._queue: list[_Job] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self.calls = 0
        self.rows = 0

    def start(self) -> None:
        """Start the consumer task on the running loop."""
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="micro-batcher")

    async def stop(self) -> None:
        """Finish the queued jobs, then end the consumer."""
        task, self._task = self._task, None
        if task is None:
            return
        while self._queue:
            await asyncio.sleep(0.001)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def score(self, model: LoadedModel, rows: list[dict[str, Any]]) -> FloatArray:
        """Scores of these rows by this model, batched with others when small."""
        alone = len(rows) >= self.max_rows or not model.batchable
        if alone or self._task is None or self._wake is None:
            return await asyncio.to_thread(score_alone, model, rows)
        done: asyncio.Future[FloatArray] = asyncio.get_running_loop().create_future()
        self._queue.append(_Job(model, rows, done))
        self._wake.set()
        return await done

    def _take(self) -> list[_Job]:
        """Jobs from the head of the queue holding at most max_rows rows (at least one job)."""
        taken: list[_Job] = []
        total = 0
        while self._queue and (not taken or total + len(self._queue[0].rows) <= self.max_rows):
            job = self._queue.pop(0)
            taken.append(job)
            total += len(job.rows)
        return taken

    async def _run(self) -> None:
        """Consume the queue forever: wait, take, group by model, score, hand out slices."""
        assert self._wake is not None
        while True:
            await self._wake.wait()
            if self.wait_seconds > 0:
                await asyncio.sleep(self.wait_seconds)
            jobs = self._take()
            if not self._queue:
                self._wake.clear()
            groups: dict[int, list[_Job]] = {}
            for job in jobs:
                groups.setdefault(id(job.model), []).append(job)
            for group in groups.values():
                await self._score_group(group)

    async def _score_group(self, group: list[_Job]) -> None:
        """One model call for a group of jobs that share a model."""
        rows = [r for job in group for r in job.rows]
        model = group[0].model
        try:
            if len(rows) <= model.inline_rows:  # cheaper than the two thread hand-offs
                scores = model.score(rows)
            else:
                scores = await asyncio.to_thread(model.score, rows)
        except Exception as err:  # the requests get the error; the consumer goes on
            log.exception("batched scoring failed")
            for job in group:
                if not job.done.done():
                    job.done.set_exception(err)
            return
        self.calls += 1
        self.rows += len(rows)
        start = 0
        for job in group:
            end = start + len(job.rows)
            if not job.done.done():
                job.done.set_result(scores[start:end])
            start = end
