"""Value figures as MLflow metrics of the model version's run (one step per recorded period)."""

from __future__ import annotations

from lifecycle.config import Params
from lifecycle.paths import Paths
from lifecycle.registry import client
from lifecycle.value.store import REALIZED, ValueEntry, entries


def log_entry(params: Params, paths: Paths, entry: ValueEntry, url: str | None = None) -> None:
    """value.estimated_usd (and value.realized_usd, value.error_usd) on the version's run."""
    mlflow = client(paths)
    run_id = mlflow.get_model_version(params.mlflow.model_name, entry.model_version).run_id
    if not run_id:
        return
    known = [e.key for e in entries(url, model_name=entry.model_name, version=entry.model_version)]
    step = known.index(entry.key) if entry.key in known else len(known)
    figures = {"value.estimated_usd": entry.est_value_usd}
    if entry.status == REALIZED:
        figures |= {"value.realized_usd": entry.value_usd, "value.error_usd": entry.value_error_usd}
    for name, figure in figures.items():
        if figure is not None:
            mlflow.log_metric(run_id, name, float(figure), step=step)
