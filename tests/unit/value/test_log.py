"""Periods of the prediction log: bad input has a defined result and nothing is counted twice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lifecycle.config import Params
from lifecycle.paths import Paths
from lifecycle.value.log import record_log_periods
from lifecycle.value.store import REALIZED, entries


def _lines(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_log_months_value_each_version_once_and_count_orphan_outcomes(
    params: Params, tmp_path: Path
) -> None:
    paths = Paths(tmp_path)
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    rng = np.random.default_rng(0)
    preds, fb = [], []
    for i in range(400):
        version = "1" if i < 300 else "2"  # v2 took over; v1 is no longer served
        score = float(rng.random())
        preds.append({"request_id": f"r{i // 50}", "record": i % 50, "score": score,
                      "time": f"2026-11-{1 + i // 40:02d}T10:00:00Z", "model_version": version,
                      "customer_id": f"c{i}"})  # fmt: skip
        fb.append({"request_id": f"r{i // 50}", "record": i % 50,
                   "outcome": "Yes" if rng.random() < score else "No",
                   "time": "2026-11-30T00:00:00Z"})  # fmt: skip
    again = [dict(r, time="2026-11-30T01:00:00Z") for r in fb[:40]]  # posted twice
    orphans = [{"request_id": "nobody", "record": 0, "outcome": "Yes",
                "time": "2026-11-30T00:00:00Z"}]  # fmt: skip
    _lines(paths.predictions / "date=2026-11-01" / "predictions-1.jsonl", preds)
    _lines(paths.data / "feedback" / "date=2026-11-30" / "feedback-1.jsonl", fb + again + orphans)

    said = list(record_log_periods(params, paths, url))
    assert said[0] == "1 outcome(s) for unknown (request_id, record): not valued"
    stored = {e.model_version: e for e in entries(url)}
    assert set(stored) == {"1", "2"}
    assert (stored["1"].rows, stored["2"].rows) == (300, 100)
    assert all(e.status == REALIZED and e.labelled_rows == e.rows for e in stored.values())
    # no holdout here, so no calibration: realized figures, no estimate, and it says so
    assert stored["1"].calibration == "missing" and stored["1"].est_value_usd is None
    # recording the log again rewrites the same rows: nothing counted twice
    list(record_log_periods(params, paths, url))
    assert sorted((e.model_version, e.value_usd) for e in entries(url)) == sorted(
        (v, e.value_usd) for v, e in stored.items()
    )


def test_an_empty_log_says_there_is_nothing_to_value(params: Params, tmp_path: Path) -> None:
    said = list(record_log_periods(params, Paths(tmp_path), f"sqlite:///{tmp_path / 'l.db'}"))
    assert len(said) == 1 and said[0].startswith("no predictions under")
