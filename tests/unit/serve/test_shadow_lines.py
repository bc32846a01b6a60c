"""GET /shadow's incremental reader of the prediction log's shadowed lines."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from lifecycle.comparison import compare
from lifecycle.config import load_params
from lifecycle.paths import Paths
from lifecycle.predictions import predictions_dir
from lifecycle.serve.outcomes import OutcomeStore
from lifecycle.serve.predlog import Entry, PredictionLog
from lifecycle.serve.shadow_lines import ShadowedLines, compare_logged


@pytest.fixture
def params() -> Any:
    """The project's params with a small labelled minimum."""
    p = load_params()
    return p.model_copy(
        update={"serving": p.serving.model_copy(update={"shadow_min_labelled": 50})}
    )


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
    paths = Paths(tmp_path)
    log = PredictionLog(predictions_dir(paths), flush_seconds=60)
    days = [datetime(2026, 3, d, 12, tzinfo=UTC) for d in (1, 2)]
    for i, day in enumerate(days):
        log.append(shadowed(f"a{i}", day, 40))
        log.append(shadowed(f"b{i}", day, 30, shadow=False))
    log.flush()
    outcomes = [{"request_id": "a0", "record": r, "outcome": "Yes"} for r in range(40)]
    OutcomeStore(paths).record(outcomes, "outcomes")
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
