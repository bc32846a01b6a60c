"""The drift report's files (JSON, HTML), its MLflow run, and the newest report's worst score."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.config import Params
from lifecycle.monitor.html import render_html
from lifecycle.monitor.results import DriftReport, is_number
from lifecycle.paths import Paths
from lifecycle.registry import ensure_experiment

if TYPE_CHECKING:
    import pandas as pd


def write_report_json(report: DriftReport, out_dir: Path) -> Path:
    """Write reports/drift/<window>.json atomically."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{report.window}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report.to_dict(), indent=2, sort_keys=False) + "\n")
    tmp.replace(path)
    return path


def write_report_html(
    report: DriftReport,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    out_dir: Path,
    reference_scores: Any | None = None,
    current_scores: Any | None = None,
) -> Path:
    """Write reports/drift/<window>.html: self-contained, an inline SVG per drifting feature."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{report.window}.html"
    tmp = path.with_suffix(".html.tmp")
    tmp.write_text(render_html(report, reference, current, reference_scores, current_scores))
    tmp.replace(path)
    return path


def log_drift_to_mlflow(
    report: DriftReport, artifacts: Sequence[Path], params: Params, paths: Paths
) -> str:
    """Log the verdict, per-feature scores and the report files as one MLflow run; its id."""
    import mlflow

    exp_id = ensure_experiment(paths, params.mlflow.experiment)
    metrics: dict[str, float] = {
        "worst_drift_score": report.worst_drift_score,
        "drifting_features": float(len(report.drifting_features)),
        "current_rows": float(report.current_rows),
    }
    if report.drifting_share is not None:
        metrics["drifting_share"] = report.drifting_share
    for f in report.features:
        if f.psi is not None:
            metrics[f"psi_{f.column}"] = f.psi
    if report.prediction is not None and report.prediction.psi is not None:
        metrics["score_psi"] = report.prediction.psi
    perf = report.performance
    if perf is not None and perf.roc_auc is not None:
        metrics["roc_auc"] = perf.roc_auc
    if perf is not None and perf.profit_per_customer is not None:
        metrics["profit_per_customer"] = perf.profit_per_customer
    tags = {"kind": "monitor", "window": report.window, "verdict": report.verdict}
    with mlflow.start_run(experiment_id=exp_id, run_name=f"monitor-{report.window}", tags=tags):
        mlflow.log_metrics({k: v for k, v in metrics.items() if math.isfinite(v)})
        mlflow.log_params({f"drift.{k}": v for k, v in report.thresholds.items()})
        for art in artifacts:
            mlflow.log_artifact(str(art), artifact_path="drift")
        run = mlflow.active_run()
        assert run is not None
        return str(run.info.run_id)


def latest_worst_drift(paths: Paths, folder: Path | None = None) -> float | None:
    """The worst drift score of the newest drift report, for the service's Prometheus gauge.

    Reads the most recently written reports/drift/*.json (by modification time); None when
    there is no readable report yet, so the gauge can stay unset instead of showing 0.
    """
    where = folder or paths.reports / "drift"
    if not where.is_dir():
        return None
    found = sorted(where.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in found:
        try:
            value = json.loads(path.read_text()).get("worst_drift_score")
        except (OSError, ValueError, AttributeError):
            continue
        return float(value) if is_number(value) else None
    return None
