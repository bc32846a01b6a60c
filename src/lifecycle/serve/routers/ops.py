"""Is the service alive and ready, which model answers, and its Prometheus metrics."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from fastapi.responses import JSONResponse

from lifecycle.serve.deps import READ_ONLY, VIEWER, State
from lifecycle.serve.openapi import ERRORS

router = APIRouter()


@router.get("/health")
async def health() -> dict[str, str]:
    """The process is alive (says nothing about the model)."""
    return {"status": "alive"}


@router.get("/ready", responses={503: ERRORS[503]})
async def ready(state: State) -> JSONResponse:
    """A model is loaded and answering."""
    model = state.holder.current
    if model is None:
        return JSONResponse(
            {"ready": False, "detail": state.not_ready()},
            status_code=503,
            headers={"Retry-After": "1", "X-Worker-PID": str(os.getpid())},
        )
    headers = {"X-Worker-PID": str(os.getpid())}  # which worker answered (restarts show)
    return JSONResponse({"ready": True, "model_version": model.version}, headers=headers)


@router.get("/model", dependencies=[VIEWER], responses={503: ERRORS[503], **READ_ONLY})
async def model_info(state: State) -> dict[str, Any]:
    """The serving model's card: version, alias, training date, metrics, data version."""
    model = state.holder.current
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, state.not_ready())
    return {**model.card, "loaded_at": model.loaded_at, "threshold": state.threshold}


@router.get("/metrics", response_class=Response, dependencies=[VIEWER], responses=READ_ONLY)
async def metrics(state: State) -> Response:
    """Prometheus exposition: requests, latency, scores, model version, log backlog."""
    state.metrics.log_pending.set(state.log.pending)
    body, kind = state.metrics.render()
    return Response(body, media_type=kind)
