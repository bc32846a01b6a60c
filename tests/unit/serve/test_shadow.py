"""The shadow scorer: both scores logged, idle-only calls, bounded queue and delay."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.config import ServingParams
from lifecycle.predictions import read_lines
from lifecycle.serve.model_holder import LoadedModel
from lifecycle.serve.predlog import Entry, PredictionLog, format_entry
from lifecycle.serve.shadow import ShadowScorer


def model(score: Any, version: str = "9") -> LoadedModel:
    """A loaded model around a scoring function."""
    return LoadedModel("m", version, "challenger", None, score, False, "", True)


def entry(rid: str, n: int = 3) -> Entry:
    """A champion's answer of n rows scored 0.2."""
    rows = [{"x": float(i)} for i in range(n)]
    return Entry(
        rid, datetime.now(UTC), "1", rows, [0.2] * n, ["No"] * n, "api", variant="champion"
    )


def lines(folder: Path) -> pd.DataFrame:
    """Everything written to the log."""
    return read_lines(folder)


def scorer(tmp_path: Path, score: Any, busy: Any = lambda: False, **kw: Any) -> ShadowScorer:
    """A started scorer writing to a log in tmp_path."""
    sink = PredictionLog(tmp_path / "p", flush_seconds=60)
    label = lambda s: ["Yes" if x >= 0.5 else "No" for x in s]  # noqa: E731
    shadow = ShadowScorer(ServingParams(shadow=True, **kw), sink, label,
                          lambda: model(score), busy)  # fmt: skip
    shadow.start()
    return shadow


def settle(shadow: ShadowScorer, rows: int) -> None:
    """Wait until the thread has handled this many rows, then stop it and close the log."""
    deadline = time.monotonic() + 10
    while sum(shadow.counts.values()) < rows and time.monotonic() < deadline:
        time.sleep(0.01)
    shadow.stop()
    shadow.sink.close()


def test_both_scores_in_the_log(tmp_path: Path) -> None:
    """Every row keeps the champion's fields and gains the challenger's version, score, label."""
    shadow = scorer(tmp_path, lambda rows: np.full(len(rows), 0.7))
    for i in range(20):
        shadow.submit(entry(f"r{i}"))
    settle(shadow, 60)
    df = lines(tmp_path / "p")
    assert len(df) == 60 and shadow.counts["scored"] == 60
    assert (df["score"] == 0.2).all() and (df["shadow_score"] == 0.7).all()
    assert set(df["shadow_label"]) == {"Yes"} and set(df["shadow_version"].astype(str)) == {"9"}
    assert shadow.stats()["agreement"] == 0.0


def test_waits_for_an_idle_champion_then_logs_late(tmp_path: Path) -> None:
    """While the champion is always busy nothing is scored; past the delay rows are logged bare."""
    calls: list[int] = []
    shadow = scorer(tmp_path, lambda rows: calls.append(len(rows)) or np.zeros(len(rows)),
                    busy=lambda: True, shadow_max_delay_seconds=0.2)  # fmt: skip
    shadow.submit(entry("late"))
    time.sleep(0.6)
    shadow.stop()
    shadow.sink.close()
    assert calls == [] and shadow.counts["late"] == 3
    df = lines(tmp_path / "p")
    assert len(df) == 3 and "shadow_score" not in df.columns


def test_full_queue_drops_and_stop_loses_nothing(tmp_path: Path) -> None:
    """Over shadow_queue_rows: logged without shadow at once; stop logs what still waits."""
    shadow = scorer(tmp_path, lambda rows: np.zeros(len(rows)), busy=lambda: True,
                    shadow_queue_rows=5, shadow_max_delay_seconds=60)  # fmt: skip
    for i in range(4):
        shadow.submit(entry(f"q{i}", 2))
    assert shadow.counts["dropped"] == 4  # 2 jobs (4 rows) queued, 2 dropped
    shadow.stop()
    shadow.sink.close()
    assert shadow.counts["shutdown"] == 4 and len(lines(tmp_path / "p")) == 8


def test_a_failing_challenger_is_counted_not_fatal(tmp_path: Path) -> None:
    """A challenger that raises: rows logged without shadow scores, the thread goes on."""

    def boom(rows: Any) -> Any:
        raise RuntimeError("no")

    shadow = scorer(tmp_path, boom)
    shadow.submit(entry("a"))
    shadow.submit(entry("b"))
    settle(shadow, 6)
    assert shadow.counts["failed"] == 6 and len(lines(tmp_path / "p")) == 6


def test_chunks_follow_the_time_budget(tmp_path: Path) -> None:
    """A model taking 1 ms a row under a 5 ms budget is called with about 5 rows at a time."""
    sizes: list[int] = []

    def slow(rows: Any) -> Any:
        sizes.append(len(rows))
        time.sleep(0.001 * len(rows))
        return np.zeros(len(rows))

    shadow = scorer(tmp_path, slow, shadow_max_added_ms=5.0)
    shadow.submit(entry("big", 200))
    settle(shadow, 200)
    assert shadow.counts["scored"] == 200 and sum(sizes) == 200
    assert max(sizes[3:]) <= 8, sizes


def test_format_keeps_request_indices() -> None:
    """A canary's part of a request keeps each record's index in the request."""
    e = Entry("r", datetime.now(UTC), "2", [{"x": 1.0}, {"x": 2.0}], [0.1, 0.9], ["No", "Yes"],
              "api", records=[3, 7], variant="canary")  # fmt: skip
    import json

    got = [json.loads(x) for x in format_entry(e)]
    assert [g["record"] for g in got] == [3, 7] and {g["variant"] for g in got} == {"canary"}
    assert "shadow_score" not in got[0]
