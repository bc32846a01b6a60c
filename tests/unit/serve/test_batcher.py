"""Micro-batching: concurrent requests share a call, each gets its own rows' scores back."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from lifecycle.serve.batcher import MicroBatcher
from lifecycle.serve.model_holder import LoadedModel


class Recorder:
    """A scorer returning each row's 'x' and noting the batch sizes and threads it ran on."""

    def __init__(self) -> None:
        """No calls yet."""
        self.calls: list[tuple[int, int]] = []

    def __call__(self, rows: Sequence[dict[str, Any]]) -> np.ndarray:
        """Each row's own value, so a wrong slice shows."""
        self.calls.append((len(rows), threading.get_ident()))
        return np.array([float(r["x"]) for r in rows])


def _model(score: Recorder, inline_rows: int) -> LoadedModel:
    """A loaded model around the recorder."""
    return LoadedModel("m", "1", "champion", None, score, True, "", True, inline_rows=inline_rows)


async def _burst(batcher: MicroBatcher, model: LoadedModel, sizes: list[int]) -> list[Any]:
    """Send requests of these sizes at once; their scores."""
    batcher.start()
    start = 0
    jobs = []
    for n in sizes:
        jobs.append(batcher.score(model, [{"x": start + i} for i in range(n)]))
        start += n
    try:
        return list(await asyncio.gather(*jobs))
    finally:
        await batcher.stop()


def test_small_batches_run_on_the_event_loop_and_slice_back() -> None:
    """Queued one-row requests share one call on the loop's own thread; each gets its score."""
    score = Recorder()
    loop_thread = threading.get_ident()
    got = asyncio.run(_burst(MicroBatcher(256, 0), _model(score, 16), [1, 1, 2, 1]))
    assert [g.tolist() for g in got] == [[0.0], [1.0], [2.0, 3.0], [4.0]]
    assert sum(n for n, _ in score.calls) == 5 and len(score.calls) < 4
    assert {t for _, t in score.calls} == {loop_thread}


def test_larger_batches_go_to_a_thread() -> None:
    """Past inline_rows the call leaves the event loop (a slow model must not stall it)."""
    score = Recorder()
    loop_thread = threading.get_ident()
    got = asyncio.run(_burst(MicroBatcher(256, 0), _model(score, 4), [3, 3, 3]))
    assert np.concatenate(got).tolist() == [float(i) for i in range(9)]
    assert any(n > 4 and t != loop_thread for n, t in score.calls)
    assert all(t != loop_thread for n, t in score.calls if n > 4)


def test_a_large_request_gets_every_core_for_its_call_only() -> None:
    """score_alone raises the OpenMP limit for a large call, in its own thread, and restores it."""
    import os

    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads
    from threadpoolctl import threadpool_limits

    from lifecycle.serve.batcher import WIDE_ROWS, score_alone

    seen: list[int] = []

    def score(rows: Sequence[dict[str, Any]]) -> np.ndarray:
        seen.append(_openmp_effective_n_threads())
        return np.zeros(len(rows))

    model = LoadedModel("m", "1", "champion", None, score, True, "", False)
    with threadpool_limits(1, user_api="openmp"):
        score_alone(model, [{}] * 10)
        score_alone(model, [{}] * WIDE_ROWS)
        after = _openmp_effective_n_threads()
    assert seen[0] == 1 and after == 1
    assert seen[1] == 1 if (os.cpu_count() or 1) == 1 else seen[1] > 1
