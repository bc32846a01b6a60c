"""A monitored window's estimated value: what the monitor run records and shows before outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from lifecycle.config import Params
from lifecycle.paths import Paths
from lifecycle.value.holdout import calibration_for
from lifecycle.value.period import Period, period_entries
from lifecycle.value.store import ValueEntry, record
from lifecycle.value.tracking import log_entry


def estimate_window(
    params: Params, paths: Paths, window: Path, links: Mapping[str, str | None]
) -> tuple[list[ValueEntry], str]:
    """Record the window's estimate per serving version (outcomes hidden); entries and a note.

    Only a served window (a file with `score` and `model_version`, as the simulation and the
    prediction log write) has scores to estimate from; anything else gets no entry and says why.
    """
    import pandas as pd

    if not window.is_file() or window.suffix != ".parquet":
        return [], f"{window.name}: not a served window file, no value estimate"
    frame = pd.read_parquet(window)
    missing = [c for c in ("score", "model_version") if c not in frame.columns]
    if missing:
        return [], f"{window.name}: no {missing} columns (not served), no value estimate"
    frame = frame.drop(columns=[c for c in ("outcome", params.data.target) if c in frame])
    versions = sorted({str(v) for v in frame["model_version"]})
    cals = {v: calibration_for(params, paths, v) for v in versions}
    end = datetime.fromtimestamp(window.stat().st_mtime, UTC)
    period = Period(window.stem, end, end, links)
    out = [record(e) for e in period_entries(frame, params, cals, period, reveal=False)]
    for entry in out:
        log_entry(params, paths, entry)
    return out, f"{window.name}: {len(out)} version(s) estimated"
