"""POST /predict: the service's hot path (benchmarked: keep it free of dependencies)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import ValidationError

from lifecycle.serve.http import invalid, read_body, request_ids
from lifecycle.serve.models import PredictResponse
from lifecycle.serve.openapi import ERRORS
from lifecycle.serve.state import ServiceState

router = APIRouter()


@router.post(
    "/predict", response_model=PredictResponse, responses={k: ERRORS[k] for k in (413, 422, 503)}
)
async def predict(request: Request) -> Response:
    """Churn probability and label of one record or a list, and the version answering."""
    # not a dependency: resolving one costs ~5% of a one-record request
    state: ServiceState = request.app.state.service
    raw = await read_body(request, state.settings.params.serving.max_body_bytes)
    try:
        rows = state.schema.predict.parse(raw)
    except ValidationError as err:
        raise invalid(err) from None
    model = state.holder.current
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, state.not_ready())
    parts = await state.score(model, rows)
    return await state.answer(*request_ids(request), rows, parts)
