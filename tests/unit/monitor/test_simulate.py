"""The simulation's options, its table, the gauge's reader and the retrain's training window."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from lifecycle.config import Params
from lifecycle.monitor.performance import label_array
from lifecycle.monitor.report import latest_worst_drift
from lifecycle.paths import Paths
from lifecycle.retrain import labelled_feedback, refresh_training_data, training_frame
from lifecycle.simulate import (
    MonthResult,
    SimulationError,
    make_plan,
    render_table,
    simulate,
)

ROOT = Path(__file__).resolve().parents[3]


def test_plan_defaults_come_from_params(params: Params) -> None:
    plan = make_plan(params, scenario="tenure_relation")
    assert plan.months == params.simulation.months
    assert plan.drift_from == params.simulation.drift_from_month
    assert plan.retrain == "event"
    assert plan.scenario_of(plan.drift_from - 1) is None
    assert plan.scenario_of(plan.drift_from) == "tenure_relation"
    assert make_plan(params, 3, "none").scenario is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"months": 0}, "--months 0: must be between 1 and 6"),
        ({"months": 7}, "--months 7: must be between 1 and 6"),
        ({"scenario": "meteor"}, "--scenario 'meteor': not one of ['none', 'contract_mix'"),
        ({"months": 3, "scenario": "price_increase", "drift_from": 4}, "--drift-from 4"),
        ({"scenario": "price_increase", "drift_from": 0}, "--drift-from 0"),
        ({"retrain": "carrier-pigeon"}, "--retrain 'carrier-pigeon'"),
    ],
)
def test_bad_options_are_clear_errors(params: Params, kwargs: dict, message: str) -> None:
    with pytest.raises(SimulationError) as err:
        make_plan(params, **kwargs)
    assert message in str(err.value)


def test_cli_refuses_an_unknown_scenario_and_months_out_of_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lifecycle.cli import app

    monkeypatch.setenv("LIFECYCLE_HOME", str(tmp_path))
    monkeypatch.setenv("LIFECYCLE_PARAMS", str(ROOT / "params.yaml"))
    runner = CliRunner()
    bad = runner.invoke(app, ["simulate", "--scenario", "meteor"])
    assert bad.exit_code == 1 and "--scenario 'meteor': not one of" in bad.output
    far = runner.invoke(app, ["simulate", "--months", "99"])
    assert far.exit_code == 1 and "--months 99: must be between 1 and 6" in far.output


def test_a_project_without_batches_is_a_clear_error(params: Params, tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match=r"month 1: batch .*month_01.parquet' does not exist"):
        simulate(params, Paths(tmp_path), make_plan(params, 2))


def _month(month: int, verdict: str, retrained: bool, champion: str) -> MonthResult:
    return MonthResult(
        month, None, 528, "1", verdict, retrained, retrained, champion, 0.8312, 9540.0, 256.1,
        12.0, f"sim-month_{month:02d}-none", (),
    )  # fmt: skip


def test_table_has_one_aligned_row_per_month() -> None:
    from dataclasses import replace

    calm = replace(_month(1, "ok", False, "1"), cost_usd=0.000067)
    text = render_table([calm, _month(2, "decay", True, "2")])
    assert "0.000067" in text
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["month", "scenario", "rows"]
    assert set(lines[1]) <= {"-", " "}
    assert len({len(ln) for ln in lines}) == 1
    assert lines[3].split() == ["2", "-", "528", "v1", "decay", "yes", "yes", "v2", "0.831",
                                "9,540", "256.10", "12"]  # fmt: skip


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
