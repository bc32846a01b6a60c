"""Offline batch scoring: the same model, the same validation, the same prediction log."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lifecycle.config import Params
from lifecycle.ledger.meter import metered
from lifecycle.paths import Paths
from lifecycle.predictions import predictions_dir
from lifecycle.registry import require_alias
from lifecycle.serve.model_holder import load_version
from lifecycle.serve.predlog import Entry, PredictionLog
from lifecycle.serve.schema import build_schema, error_details


class BatchInputError(ValueError):
    """A file that cannot be scored, with the rows and fields at fault."""


@dataclass(frozen=True)
class BatchResult:
    """What a batch scoring produced."""

    rows: int
    positives: int
    model_name: str
    model_version: str
    request_id: str
    out: Path | None


def read_records(file: Path, params: Params) -> tuple[list[dict[str, Any]], Any]:
    """The file's feature columns as records (nulls as None) and its id column, if any."""
    import pandas as pd

    if not file.is_file():
        raise BatchInputError(f"{file}: no such file")
    suffix = file.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(file)
    elif suffix == ".csv":
        frame = pd.read_csv(file)
    else:
        raise BatchInputError(f"{file}: expected a .csv or .parquet file, got {suffix!r}")
    missing = [c for c in params.data.features if c not in frame.columns]
    if missing:
        raise BatchInputError(f"{file}: feature column(s) missing: {missing}")
    features = frame[list(params.data.features)].astype(object)
    features = features.where(features.notna(), None)
    ids = frame[params.data.id_column] if params.data.id_column in frame.columns else None
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()} for r in features.to_dict("records")
    ]
    return records, ids


def score_file(
    params: Params, paths: Paths, file: Path, out: Path | None, model: str = "champion"
) -> BatchResult:
    """Validate, score with the serving scorer, log every row, optionally write the scores."""
    raw, ids = read_records(file, params)
    try:
        rows = build_schema(params).parse_rows(raw)
    except ValidationError as err:
        shown = "; ".join(
            f"row {e['loc'][1]} {'.'.join(map(str, e['loc'][2:]))}: {e['msg']}"
            for e in error_details(err)[:20]
        )
        raise BatchInputError(f"{file}: {err.error_count()} invalid value(s): {shown}") from None
    name = params.mlflow.model_name
    version = model if model.isdigit() else str(require_alias(paths, name, model).version)
    with metered("job", "score", "deployment", "manual", params=params, paths=paths) as run:
        loaded = load_version(params, paths, version, model)
        run.link(model_version=loaded.version)
        scores: list[float] = loaded.score(rows).tolist() if rows else []
        threshold = params.serving.threshold or params.train.threshold
        labels = labels_for(params, [s >= threshold for s in scores])
        request_id = f"batch-{uuid.uuid4().hex}"
        log = PredictionLog(predictions_dir(paths))
        values = [float(s) for s in scores]
        log.append(
            Entry(request_id, datetime.now(UTC), loaded.version, rows, values, labels, "batch")
        )
        log.close()
    if out is not None:
        write_scores(out, ids, request_id, loaded.version, values, labels)
    return BatchResult(len(rows), sum(1 for lab in labels if lab == params.data.positive_label),
                       name, loaded.version, request_id, out)  # fmt: skip


def labels_for(params: Params, positive: list[bool]) -> list[Any]:
    """Predicted labels in the target's own terms."""
    pos = params.data.positive_label
    neg = next(x for x in params.validation.target_labels if str(x) != str(pos))
    return [pos if p else neg for p in positive]


def write_scores(
    out: Path, ids: Any, request_id: str, version: str, scores: list[float], labels: list[Any]
) -> None:
    """The scores beside the ids, with the request id that feedback refers to."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "request_id": request_id,
            "record": range(len(scores)),
            "model_version": version,
            "score": scores,
            "label": labels,
        }
    )
    if ids is not None:
        frame.insert(0, str(ids.name), ids.to_numpy())
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in (".parquet", ".pq"):
        frame.to_parquet(out, index=False)
    else:
        frame.to_csv(out, index=False)
