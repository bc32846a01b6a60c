"""The printed summary a user reads after a run: champion, metrics, where things are."""

from __future__ import annotations

import json

from lifecycle.config import Params
from lifecycle.paths import Paths
from lifecycle.registry import CHAMPION, require_alias, tracking_uri


def render_summary(params: Params, paths: Paths) -> str:
    """Champion version and holdout metrics, report locations and the MLflow UI command."""
    name = params.mlflow.model_name
    champion = require_alias(paths, name, CHAMPION)
    lines = [
        "",
        f"== {params.project.name}: champion {name} v{champion.version} "
        f"({(champion.tags or {}).get('candidate', '?')}) ==",
    ]
    if paths.metrics.is_file():
        metrics = json.loads(paths.metrics.read_text())
        hold = metrics.get("holdout", {})
        keys = ("roc_auc", "pr_auc", "log_loss", "brier", "f1", "profit", "profit_per_customer")
        lines += [f"  holdout {k:<20} {hold[k]:>12.4f}" for k in keys if k in hold]
    if paths.promotion.is_file():
        decision = json.loads(paths.promotion.read_text())
        verdict = "promoted" if decision.get("promote") else "kept"
        lines.append(f"  last decision: {verdict}: {decision.get('reason')}")
    lines += [
        "",
        f"  reports:   {paths.reports}/ (metrics.json, promotion.json, train.json, plots/)",
        f"  data:      {paths.data}/ (raw, batches, validated, processed, reference)",
        f"  tracking:  {tracking_uri(paths)}",
        f"  MLflow UI: uv run mlflow ui --backend-store-uri {tracking_uri(paths)} --port 5000",
        "  metrics:   uv run dvc metrics show    plots: uv run dvc plots show",
    ]
    return "\n".join(lines)
