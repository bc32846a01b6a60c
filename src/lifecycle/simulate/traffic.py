"""A month's traffic: its batch as it arrives, POSTed to the service, kept as the month's window."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.config import Params
from lifecycle.features import model_inputs
from lifecycle.ingest import apply_scenario
from lifecycle.paths import Paths
from lifecycle.simulate.plan import NO_SCENARIO, Plan, SimulationError

if TYPE_CHECKING:
    import httpx
    import pandas as pd

CHUNK_ROWS = 200


def month_batch(params: Params, paths: Paths, plan: Plan, month: int) -> pd.DataFrame:
    """The month's batch as it arrives, the scenario applied (same seed as `lifecycle monitor`)."""
    import pandas as pd

    path = paths.batch(month)
    if not path.is_file():
        raise SimulationError(f"month {month}: batch {str(path)!r} does not exist; run ingest")
    frame = pd.read_parquet(path)
    name = plan.scenario_of(month)
    if name is None:
        return frame
    spec = params.simulation.scenarios[name]
    return apply_scenario(frame, spec, params.data, seed=params.simulation.seed + month)


def records(frame: pd.DataFrame, params: Params) -> list[dict[str, Any]]:
    """The feature columns as JSON-ready records (no NaN: null where a value is missing)."""
    import numpy as np

    x = model_inputs(frame, params.data).astype(object)
    x = x.where(x.notna(), None)
    out = x.to_dict(orient="records")
    return [
        {str(k): (float(v) if isinstance(v, np.floating) else v) for k, v in r.items()} for r in out
    ]


def serve_month(
    client: httpx.Client, params: Params, frame: pd.DataFrame, month: int
) -> pd.DataFrame:
    """POST the month to /predict in chunks, then its outcomes to /feedback; the served rows."""
    import pandas as pd

    data = params.data
    rows = records(frame, params)
    parts = []
    for start in range(0, len(rows), CHUNK_ROWS):
        request_id = f"sim-m{month:02d}-{start // CHUNK_ROWS:03d}"
        chunk = rows[start : start + CHUNK_ROWS]
        answer = _ok(client.post("/predict", json=chunk, headers={"X-Request-ID": request_id}))
        preds = answer["predictions"]
        part = frame.iloc[start : start + len(chunk)].copy()
        part["request_id"] = answer["request_id"]
        part["record"] = [p["record"] for p in preds]
        part["score"] = [p["score"] for p in preds]
        part["model_version"] = [p["model_version"] for p in preds]
        parts.append(part)
    served = pd.concat(parts, ignore_index=True)
    feedback = [
        {"request_id": r, "record": int(i), "outcome": str(o)}
        for r, i, o in zip(served["request_id"], served["record"], served[data.target], strict=True)
    ]
    for start in range(0, len(feedback), CHUNK_ROWS):
        _ok(client.post("/feedback", json=feedback[start : start + CHUNK_ROWS]))
    keep = [data.id_column, "request_id", "record", *data.features, "score", "model_version"]
    return served[[*keep, data.target]]


def _ok(response: httpx.Response) -> Any:
    """The JSON of a 2xx answer, else a clear error with the service's message."""
    if response.status_code >= 300:
        raise SimulationError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response.json()


def write_window(paths: Paths, plan: Plan, month: int, served: pd.DataFrame) -> Path:
    """The month's served rows as the window the monitor checks (data/simulation/...)."""
    name = plan.scenario_of(month) or NO_SCENARIO
    path = paths.data / "simulation" / f"sim-month_{month:02d}-{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    served.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path
