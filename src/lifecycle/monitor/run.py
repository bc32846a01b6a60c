"""One window end to end: load it, check it, write its reports, optionally log them to MLflow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lifecycle.config import Params
from lifecycle.evaluate import score
from lifecycle.ingest import apply_scenario
from lifecycle.monitor.check import check_drift
from lifecycle.monitor.errors import MonitorError
from lifecycle.monitor.report import log_drift_to_mlflow, write_report_html, write_report_json
from lifecycle.monitor.results import DriftReport, PerformanceBaseline
from lifecycle.monitor.windows import (
    SCORE_COLUMN,
    load_reference,
    load_window,
    require_columns,
    window_name,
)
from lifecycle.paths import Paths


@dataclass(frozen=True)
class MonitorOutcome:
    """What a monitor run wrote, for the drivers to log and link."""

    report: DriftReport
    json_path: Path
    html_path: Path
    mlflow_run_id: str | None = None


def monitor_window(
    params: Params,
    paths: Paths,
    window: Path | None = None,
    *,
    month: int | None = None,
    scenario: str | None = None,
    reference: Path | None = None,
    out: Path | None = None,
    model: str | None = None,
    baseline: Path | None = None,
    log_mlflow: bool = False,
) -> MonitorOutcome:
    """Check one window (a file, a log folder or a simulated month) and write its reports."""
    if window is not None and month is not None:
        raise MonitorError("window: give a window path or --month, not both")
    if month is not None:
        window = paths.batch(month)
        if not window.is_file():
            found = sorted(p.stem for p in paths.batches.glob("month_*.parquet"))
            raise MonitorError(
                f"--month {month}: batch {str(window)!r} does not exist (found: {found or 'none'};"
                " run ingest first)"
            )
    window = window if window is not None else paths.predictions
    name = window_name(window)
    ref = load_reference(reference or paths.reference)
    cur = load_window(window)
    rescore = False
    if scenario is not None:
        known = params.simulation.scenarios
        if scenario not in known:
            raise MonitorError(
                f"--scenario {scenario!r}: not one of simulation.scenarios {sorted(known)}"
            )
        require_columns(cur, params.data.features, f"window {name!r}")
        seed = params.simulation.seed + (month or 0)
        cur = apply_scenario(cur, known[scenario], params.data, seed=seed)
        name = f"{name}-{scenario}"
        rescore = True
    ref_scores = cur_scores = None
    if model is not None:
        require_columns(cur, params.data.features, f"window {name!r}")
        ref_scores = score(params, paths, model, ref)
        if rescore or SCORE_COLUMN not in cur.columns:
            cur_scores = score(params, paths, model, cur)
    elif SCORE_COLUMN in cur.columns and not rescore:
        cur_scores = np.asarray(cur[SCORE_COLUMN], dtype=float)
    base = None
    base_path = baseline or paths.metrics
    if baseline is not None or base_path.is_file():
        base = PerformanceBaseline.from_metrics_file(base_path)
    report = check_drift(ref, cur, params, name, ref_scores, cur_scores, base)
    out_dir = out or paths.reports / "drift"
    json_path = write_report_json(report, out_dir)
    html_path = write_report_html(report, ref, cur, out_dir, ref_scores, cur_scores)
    run_id = (
        log_drift_to_mlflow(report, [json_path, html_path], params, paths) if log_mlflow else None
    )
    return MonitorOutcome(report, json_path, html_path, run_id)
