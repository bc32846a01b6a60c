"""The shadow scorer: both scores logged, idle-only calls, bounded queue and delay, the report."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifecycle.config import ServingParams, load_params
from lifecycle.serve.model_holder import LoadedModel
from lifecycle.serve.predlog import Entry, PredictionLog, format_entry
from lifecycle.serve.shadow import ShadowScorer, compare_frame


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
    from lifecycle.serve.predlog import read_lines

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


@pytest.fixture
def params() -> Any:
    """The project's params with a small labelled minimum."""
    p = load_params()
    return p.model_copy(
        update={"serving": p.serving.model_copy(update={"shadow_min_labelled": 50})}
    )


def test_report_agreement_distributions_and_profit(params: Any) -> None:
    """Agreement at the threshold, summaries, and profit once enough outcomes are known."""
    rng = np.random.default_rng(0)
    n = 400
    truth = rng.random(n) < 0.3
    good = np.clip(truth * 0.6 + rng.random(n) * 0.4, 0, 1)
    noise = rng.random(n)
    frame = pd.DataFrame({
        "request_id": [f"r{i}" for i in range(n)], "record": 0, "time": "2026-01-01T00:00:00",
        "model_version": "1", "score": noise, "shadow_version": "2", "shadow_score": good,
        "outcome": np.where(truth, "Yes", "No"),
    })  # fmt: skip
    [c] = compare_frame(params, frame)
    assert c.rows == n and c.labelled_rows == n
    expected = float(((noise >= 0.5) == (good >= 0.5)).mean())
    assert c.agreement == pytest.approx(expected)
    assert c.challenger.mean == pytest.approx(good.mean())
    assert c.challenger_profit > c.champion_profit and c.favours == "challenger"  # type: ignore[operator]
    unlabelled = frame.assign(outcome=None)
    [u] = compare_frame(params, unlabelled)
    assert u.favours == "undecided" and u.champion_profit is None
    assert compare_frame(params, frame.drop(columns=["shadow_score"])) == []


def shadowed(rid: str, when: datetime, n: int, shadow: bool = True) -> Entry:
    """A champion's answer of n rows, with the challenger's scores when `shadow`."""
    rng = np.random.default_rng(len(rid) + n)
    scores, other = rng.random(n).tolist(), rng.random(n).tolist()
    labels = ["Yes" if s >= 0.5 else "No" for s in scores]
    base = Entry(rid, when, "1", [{"x": float(i)} for i in range(n)], scores, labels, "api",
                 variant="champion")  # fmt: skip
    if not shadow:
        return base
    marks = ["Yes" if s >= 0.5 else "No" for s in other]
    return replace(base, shadow_version="2", shadow_scores=other, shadow_labels=marks)


def test_shadow_report_reads_only_what_the_log_gained(tmp_path: Path, params: Any) -> None:
    """GET /shadow's reader equals a full read, reads each byte once, waits for whole lines,
    and starts over when a file shrinks."""
    from lifecycle.paths import Paths
    from lifecycle.serve.predlog import append_feedback, predictions_dir
    from lifecycle.serve.shadow import ShadowedLines, compare, compare_logged

    paths = Paths(tmp_path)
    log = PredictionLog(predictions_dir(paths), flush_seconds=60)
    days = [datetime(2026, 3, d, 12, tzinfo=UTC) for d in (1, 2)]
    for i, day in enumerate(days):
        log.append(shadowed(f"a{i}", day, 40))
        log.append(shadowed(f"b{i}", day, 30, shadow=False))
    log.flush()
    append_feedback(paths, [{"request_id": "a0", "record": r, "outcome": "Yes"} for r in range(40)],
                    threading.Lock())  # fmt: skip
    reader = ShadowedLines(predictions_dir(paths))
    first = compare_logged(params, paths, reader)
    assert first == compare(params, paths) and first[0].rows == 80
    assert first[0].labelled_rows == 40
    read = reader.bytes_read
    assert compare_logged(params, paths, reader) == first and reader.bytes_read == read
    log.append(shadowed("c", days[1], 10))
    log.flush()
    target = sorted(predictions_dir(paths).rglob("*.jsonl"))[-1]
    with target.open("ab") as fh:  # a line the writer is still appending
        fh.write(b'{"request_id": "half", "shadow_score": 0.')
    grown = compare_logged(params, paths, reader)
    assert grown[0].rows == 90 and reader.bytes_read > read
    with target.open("ab") as fh:
        fh.write(b'5, "record": 0, "model_version": "1", "shadow_version": "2", "score": 0.1, '
                 b'"time": "2026-03-02T13:00:00+00:00"}\n')  # fmt: skip
    assert compare_logged(params, paths, reader)[0].rows == 91
    target.write_bytes(b"")  # replaced by an empty file: everything is read again
    again = compare_logged(params, paths, reader)
    assert again[0].rows == 40 and again == compare(params, paths)
