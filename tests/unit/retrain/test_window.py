"""The gauge's reader, the log's labels as outcomes and the retrain's training window."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.config import Params
from lifecycle.monitor.performance import label_array
from lifecycle.monitor.report import latest_worst_drift
from lifecycle.paths import Paths
from lifecycle.retrain import labelled_feedback, refresh_training_data, training_frame


def _report(folder: Path, name: str, score: object, age: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"window": name, "worst_drift_score": score}))
    stamp = time.time() - age
    os.utime(path, (stamp, stamp))
    return path


def test_latest_worst_drift_reads_the_newest_report(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    assert latest_worst_drift(paths) is None
    folder = paths.reports / "drift"
    _report(folder, "month_01", 0.9, age=100)
    _report(folder, "month_02", 0.12, age=10)
    assert latest_worst_drift(paths) == pytest.approx(0.12)
    (folder / "month_03.json").write_text("{not json")
    assert latest_worst_drift(paths) == pytest.approx(0.12)
    _report(folder, "month_04", None, age=0)
    assert latest_worst_drift(paths) is None


def test_the_logs_predicted_label_is_not_an_outcome(params: Params) -> None:
    log = pd.DataFrame({"label": ["Yes", "No"], "model_version": ["1", "1"], "source": ["api"] * 2})
    assert label_array(log, params.data) is None
    joined = log.assign(outcome=["No", None])
    got = label_array(joined, params.data)
    assert got is not None and got[0] == 0.0 and pd.isna(got[1])


def _log(paths: Paths, batch: pd.DataFrame, params: Params, request: str, when: str) -> None:
    """Write a batch as the service's prediction log and its feedback (every outcome known)."""
    feats = batch[list(params.data.features)].to_dict(orient="records")
    day = paths.predictions / "date=2026-01-01"
    fb_day = paths.data / "feedback" / "date=2026-01-01"
    day.mkdir(parents=True, exist_ok=True)
    fb_day.mkdir(parents=True, exist_ok=True)
    with (day / f"predictions-{request}.jsonl").open("w") as fh:
        for i, row in enumerate(feats):
            head = {"request_id": request, "record": i, "time": when, "model_version": "1",
                    "score": 0.5, "label": "No", "source": "api"}  # fmt: skip
            fh.write(json.dumps({**head, **row}) + "\n")
    with (fb_day / f"feedback-{request}.jsonl").open("w") as fh:
        for i, outcome in enumerate(batch[params.data.target]):
            fh.write(json.dumps({"request_id": request, "record": i, "outcome": outcome,
                                 "time": when}) + "\n")  # fmt: skip


def test_retrain_window_is_the_newest_labelled_rows(
    params: Params, arrival: tuple[pd.DataFrame, list[pd.DataFrame]], tmp_path: Path
) -> None:
    paths = Paths(tmp_path)
    old, new = arrival[1][0].head(300), arrival[1][1].head(400)
    _log(paths, old, params, "old", "2026-01-01T00:00:00+00:00")
    _log(paths, new, params, "new", "2026-01-01T01:00:00+00:00")
    rows = labelled_feedback(params, paths)
    assert len(rows) == 700
    assert rows[params.data.id_column].iloc[-1] == "new:399"
    frame, found = training_frame(params, paths, rows)
    assert params.retrain.window_rows is not None
    assert len(frame) == params.retrain.window_rows == found.rows
    assert frame[params.data.id_column].str.startswith("new:").sum() == 400
    assert found.source == "feedback_window"


def test_without_a_window_every_labelled_row_is_added_once(
    params: Params, arrival: tuple[pd.DataFrame, list[pd.DataFrame]], tmp_path: Path
) -> None:
    """A second retrain adds the first one's labelled rows once, not again on top of them."""
    paths = Paths(tmp_path)
    unwindowed = params.model_copy(
        update={"retrain": params.retrain.model_copy(update={"window_rows": None})}
    )
    reference = arrival[0].head(1000)
    paths.raw_reference.parent.mkdir(parents=True)
    reference.to_parquet(paths.raw_reference, index=False)
    _log(paths, arrival[1][0].head(300), params, "first", "2026-01-01T00:00:00+00:00")
    first, _ = training_frame(unwindowed, paths, labelled_feedback(params, paths))
    paths.validated.parent.mkdir(parents=True)
    first.to_parquet(paths.validated, index=False)  # the first retrain's challenger won
    _log(paths, arrival[1][1].head(200), params, "second", "2026-01-01T01:00:00+00:00")
    frame, found = training_frame(unwindowed, paths, labelled_feedback(params, paths))
    ids = frame[params.data.id_column]
    assert len(frame) == 1000 + 300 + 200 == found.rows and ids.is_unique
    assert found.source == "reference_and_feedback" and found.new_rows == 500


def test_too_few_labels_leave_the_training_data_unchanged(
    params: Params, arrival: tuple[pd.DataFrame, list[pd.DataFrame]], tmp_path: Path
) -> None:
    paths = Paths(tmp_path)
    _log(paths, arrival[1][0].head(20), params, "few", "2026-01-01T00:00:00+00:00")
    found = refresh_training_data(params, paths)
    assert found.source == "unchanged" and found.new_rows == 20
    assert "retrain.min_new_labelled_rows" in found.note
    assert not paths.validated.exists()


def test_a_retrain_waits_for_prediction_lines_still_being_written(
    params: Params, arrival: tuple[pd.DataFrame, list[pd.DataFrame]], tmp_path: Path
) -> None:
    """Outcomes already on disk, their predictions written a moment later: the same window."""
    import threading

    from lifecycle.predictions import feedback_dir, predictions_dir, read_lines
    from lifecycle.retrain import complete_log, outcomes_without_prediction

    paths, batch = Paths(tmp_path), arrival[1][0].head(50)
    _log(paths, batch, params, "late", "2026-01-01T00:00:00+00:00")
    pred_file = next(predictions_dir(paths).rglob("*.jsonl"))
    held = pred_file.read_text()
    pred_file.write_text("")  # the service has not flushed this request's lines yet
    preds, outcomes = read_lines(predictions_dir(paths)), read_lines(feedback_dir(paths))
    assert outcomes_without_prediction(preds, outcomes) == 50

    flushed = threading.Event()

    def flush_later() -> None:
        time.sleep(0.5)
        pred_file.write_text(held)
        flushed.set()

    writer = threading.Thread(target=flush_later)
    writer.start()
    frame, missing = complete_log(params, paths)
    writer.join()
    assert flushed.is_set() and missing == 0
    assert frame["outcome"].notna().sum() == 50
    assert len(labelled_feedback(params, paths)) == 50


def test_the_window_order_does_not_depend_on_file_order(
    params: Params, arrival: tuple[pd.DataFrame, list[pd.DataFrame]], tmp_path: Path
) -> None:
    """Two requests at the same instant: ordered by request id, whatever file holds them."""
    batch = arrival[1][0].head(40)
    first, second = Paths(tmp_path / "a"), Paths(tmp_path / "b")
    when = "2026-01-01T00:00:00+00:00"
    _log(first, batch.head(20), params, "r1", when)
    _log(first, batch.tail(20), params, "r2", when)
    _log(second, batch.tail(20), params, "r2", when)
    _log(second, batch.head(20), params, "r1", when)
    a, b = labelled_feedback(params, first), labelled_feedback(params, second)
    pd.testing.assert_frame_equal(a, b)
    assert a[params.data.id_column].iloc[0] == "r1:0"
