"""The prediction log's layout and its readers (the writer is `lifecycle.serve.predlog`).

Layout (a contract with `lifecycle.monitor`, which reads a file or a whole folder):

    data/predictions/date=YYYY-MM-DD/predictions-<pid>.jsonl
        one JSON object a line: request_id, record (index in the request), time (ISO UTC),
        model_version, score, label (the predicted label at the threshold, in the target's
        own labels), source ("api" or "batch"), then every feature by its params name;
        correlation_id (the caller's X-Request-ID, when given; request_id is the server's),
        out_of_contract (only on a record that breaks a validation rule, in flag mode);
        API lines also carry variant ("champion" or "canary": who answered), and when the
        challenger was shadow-scored, shadow_version, shadow_score and shadow_label
        (added keys only: readers that pick the columns they know are unaffected)
    data/feedback/date=YYYY-MM-DD/feedback-<pid>.jsonl
        request_id, record, outcome (the real label, one of validation.target_labels), time,
        and on a correction: correction (true), reason, previous (the outcome it replaces), by

Feedback lives beside, not under, data/predictions so that a drift check over the prediction
folder never mixes outcome rows into the feature window. The join: `labelled(paths)` reads
both and left-joins feedback onto predictions on (request_id, record), the latest outcome
winning; rows without feedback have outcome null. The writer: `lifecycle.serve.predlog`.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lifecycle.paths import Paths

if TYPE_CHECKING:
    import pandas as pd


def predictions_dir(paths: Paths) -> Path:
    """The folder of day partitions of predictions."""
    return paths.predictions


def feedback_dir(paths: Paths) -> Path:
    """The folder of day partitions of outcomes (beside the predictions, not under)."""
    return paths.data / "feedback"


def day_file(folder: Path, stem: str, when: datetime) -> Path:
    """This process's file of one UTC day."""
    day = when.astimezone(UTC).strftime("%Y-%m-%d")
    return folder / f"date={day}" / f"{stem}-{os.getpid()}.jsonl"


def read_lines(folder: Path) -> pd.DataFrame:
    """Every JSON-lines file under a folder as one frame (empty when there is none)."""
    import pandas as pd

    frames = [_read_jsonl(f) for f in sorted(folder.rglob("*.jsonl")) if f.stat().st_size]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _read_jsonl(path: Path) -> pd.DataFrame:
    """One JSON-lines file; the standard parser when pandas' refuses a valid number.

    pandas' decoder raises "Range error" on subnormal floats such as 1e-310, which the API
    accepts as finite numbers; the stdlib parser reads them (slower, so only then).
    """
    import pandas as pd

    try:
        return pd.read_json(path, lines=True, dtype=False, precise_float=True)
    except ValueError:
        with path.open(encoding="utf-8") as fh:
            return pd.DataFrame.from_records([json.loads(ln) for ln in fh if ln.strip()])


def labelled(paths: Paths) -> pd.DataFrame:
    """Predictions left-joined with their latest outcome on (request_id, record).

    Lines flagged out of contract (`serving.out_of_contract: flag`) are left out: they were
    scored, but what the validator would refuse never becomes training or reference data.
    """
    preds = read_lines(predictions_dir(paths))
    if "out_of_contract" in preds.columns:
        preds = preds[preds["out_of_contract"].isna()].drop(columns="out_of_contract")
    return join_outcomes(preds, read_lines(feedback_dir(paths)))


def join_outcomes(preds: pd.DataFrame, fb: pd.DataFrame) -> pd.DataFrame:
    """Prediction lines left-joined with the latest outcome sent for each (request, record)."""
    if preds.empty:
        return preds
    if fb.empty:
        return preds.assign(outcome=None)
    fb = fb.sort_values("time").drop_duplicates(["request_id", "record"], keep="last")
    fb = fb[["request_id", "record", "outcome"]]
    return preds.merge(fb, on=["request_id", "record"], how="left")
