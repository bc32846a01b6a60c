"""POST /explain: why the served model scores one record as it does (lifecycle.explain)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ValidationError

from lifecycle.config import Params
from lifecycle.explain import explain_record, typical_values
from lifecycle.serve.deps import State
from lifecycle.serve.http import invalid, read_body
from lifecycle.serve.openapi import ERRORS

router = APIRouter()
_TYPICAL: dict[tuple[str, float], dict[str, Any]] = {}


class Reason(BaseModel):
    """One feature's push on the score, against a typical customer of the reference period."""

    feature: str
    value: Any
    typical: Any
    points: float
    direction: str
    sentence: str


class ExplainResponse(BaseModel):
    """The version that answered (the one /predict serves), its score and the reasons."""

    version: str
    alias: str
    score: float
    reasons: list[Reason]


def typical(params: Params, reference: Path) -> dict[str, Any]:
    """The reference period's typical customer, read once per file version."""
    import pandas as pd

    key = (str(reference), reference.stat().st_mtime)
    if key not in _TYPICAL:
        _TYPICAL.clear()
        _TYPICAL[key] = typical_values(pd.read_parquet(reference), params)
    return _TYPICAL[key]


def explain_one(model: Any, row: dict[str, Any], params: Params, reference: Path) -> Any:
    """Score and reasons of one validated record through the served pipeline."""
    import pandas as pd

    from lifecycle.features import model_inputs

    reasons = explain_record(model, row, params, typical(params, reference))
    score = float(model.predict_proba(model_inputs(pd.DataFrame([row]), params.data))[:, 1][0])
    return score, reasons


@router.post(
    "/explain", response_model=ExplainResponse, responses={k: ERRORS[k] for k in (413, 422, 503)}
)
async def explain(request: Request, state: State) -> ExplainResponse:
    """The features that drive one record's score, from the model version /predict serves."""
    params, paths = state.settings.params, state.settings.paths
    raw = await read_body(request, params.serving.max_body_bytes)
    try:
        rows = state.schema.predict.parse(raw)
    except ValidationError as err:
        raise invalid(err) from None
    if len(rows) != 1:
        raise HTTPException(422, f"explain takes exactly one record, got {len(rows)}")
    model = state.holder.current
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, state.not_ready())
    if not paths.reference.is_file():
        raise HTTPException(503, f"no reference data at {paths.reference} to explain against")
    score, found = await asyncio.to_thread(
        explain_one, model.pipeline, rows[0], params, paths.reference
    )
    reasons = [Reason(**asdict(c)) for c in found]
    return ExplainResponse(version=model.version, alias=model.alias, score=score, reasons=reasons)
