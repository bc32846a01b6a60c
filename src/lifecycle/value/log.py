"""Periods of the prediction log: each UTC month of served predictions, valued per version.

Outcomes are the feedback joined on (request_id, record), the latest winning; feedback for a
request id the log does not hold cannot be valued and is counted, not guessed at. Outcomes that
arrived are real, so a month is realized as soon as enough of it is labelled.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from lifecycle.config import Params
from lifecycle.paths import Paths
from lifecycle.predictions import feedback_dir, join_outcomes, predictions_dir, read_lines
from lifecycle.registry import RegistryError
from lifecycle.value.calibration import Calibration
from lifecycle.value.holdout import calibration_for
from lifecycle.value.period import Period, period_entries
from lifecycle.value.store import record


def _calibrations(params: Params, paths: Paths, versions: set[str]) -> dict[str, Calibration]:
    """Each served version's calibration; a version the registry no longer holds gets none."""
    from mlflow.exceptions import MlflowException

    out = {}
    for version in sorted(versions):
        try:
            out[version] = calibration_for(params, paths, version)
        except (RegistryError, MlflowException, OSError):
            continue  # its entries say "no calibration of v<N>", with no number
    return out


def record_log_periods(params: Params, paths: Paths, url: str | None = None) -> Iterator[str]:
    """Record every month of the prediction log as value entries; one line about each."""
    import pandas as pd

    preds = read_lines(predictions_dir(paths))
    if preds.empty:
        yield f"no predictions under {predictions_dir(paths)}: nothing to value"
        return
    fb = read_lines(feedback_dir(paths))
    if not fb.empty:
        known = set(zip(preds["request_id"], preds["record"], strict=True))
        orphans = sum((r, i) not in known for r, i in zip(fb["request_id"], fb["record"],
                                                            strict=True))  # fmt: skip
        if orphans:
            yield f"{orphans} outcome(s) for unknown (request_id, record): not valued"
    frame = join_outcomes(preds, fb)
    when = pd.to_datetime(frame["time"], utc=True)
    frame = frame.assign(_month=when.dt.strftime("%Y-%m"))
    cals = _calibrations(params, paths, {str(v) for v in frame["model_version"]})
    for month, rows in frame.groupby("_month", sort=True):
        start = datetime.strptime(f"{month}-01", "%Y-%m-%d").replace(tzinfo=UTC)
        end = when[rows.index].max().to_pydatetime()
        period = Period(f"log-{month}", start, end, {})
        for entry in period_entries(rows, params, cals, period, reveal=True):
            stored = record(entry, url)
            yield (f"{period.name} v{stored.model_version}: {stored.status}, "
                   f"{stored.labelled_rows}/{stored.rows} labelled")  # fmt: skip
