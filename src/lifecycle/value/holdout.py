"""A version's calibration, checked once on the holdout, kept beside the data and in MLflow."""

from __future__ import annotations

import json
from pathlib import Path

from lifecycle.config import Params
from lifecycle.features import binary_target, model_inputs
from lifecycle.paths import Paths
from lifecycle.registry import client, load_sklearn
from lifecycle.value.calibration import Calibration, fit_calibration


def calibration_file(paths: Paths, version: str) -> Path:
    """Where one version's calibration is kept (data/value/calibration-v<N>.json)."""
    return paths.data / "value" / f"calibration-v{version}.json"


def calibration_for(params: Params, paths: Paths, version: str) -> Calibration:
    """The version's calibration: from its file, else measured on the holdout and recorded."""
    path = calibration_file(paths, version)
    if path.is_file():
        found = Calibration.from_dict(json.loads(path.read_text()))
        if found.max_ece == params.value.max_ece:
            return found
    import numpy as np
    import pandas as pd

    holdout = pd.read_parquet(paths.holdout_set)
    model = load_sklearn(paths, params.mlflow.model_name, version)
    scores = np.asarray(model.predict_proba(model_inputs(holdout, params.data))[:, 1])  # type: ignore[attr-defined]
    found = fit_calibration(binary_target(holdout, params.data), scores, params.value)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(found.to_dict(), indent=2))
    tmp.replace(path)
    _log_mlflow(params, paths, version, found)
    return found


def _log_mlflow(params: Params, paths: Paths, version: str, found: Calibration) -> None:
    """The calibration method as a tag and its ECE and Brier as metrics of the version's run."""
    mlflow = client(paths)
    run_id = mlflow.get_model_version(params.mlflow.model_name, version).run_id
    if not run_id:
        return
    mlflow.set_tag(run_id, "value.calibration", found.method)
    mlflow.set_tag(run_id, "value.calibration_usable", str(found.usable).lower())
    for name in ("ece_before", "ece_after", "brier_before", "brier_after"):
        figure = float(getattr(found, name))
        if figure == figure:  # NaN when the holdout was too small
            mlflow.log_metric(run_id, f"value.holdout_{name}", figure)
