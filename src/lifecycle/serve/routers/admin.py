"""Operator routes: reload the champion, roll back to @previous, set the canary share.

The operator token is checked (a router dependency) before any body is read: a route here
reads its own body inside the handler, never as a FastAPI body parameter, which FastAPI
would parse before the dependencies run.
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import ValidationError

from lifecycle.registry import RegistryError
from lifecycle.registry import rollback as registry_rollback
from lifecycle.serve.deps import ADMIN, READ_ONLY, State
from lifecycle.serve.http import invalid, read_body
from lifecycle.serve.models import CanaryShare
from lifecycle.serve.state import ServiceState

router = APIRouter(prefix="/admin", dependencies=[ADMIN])


@router.post("/reload", responses=READ_ONLY)
async def reload(state: State, force: bool = False) -> dict[str, Any]:
    """Re-resolve the alias now (force: reload even the same version)."""
    before = state.holder.current
    try:
        model = await asyncio.to_thread(state.holder.refresh, force)
    except Exception as err:  # the old model keeps serving; the caller learns why
        state.metrics.reloads.labels("failed").inc()
        raise HTTPException(502, f"reload failed, still serving the old model: {err}") from None
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, state.not_ready())
    return {"model_version": model.version, "changed": model is not before}


@router.post("/rollback", responses={**READ_ONLY, 409: {}})
async def rollback(state: State) -> dict[str, Any]:
    """Restore @previous as champion in the registry, then serve it."""
    name = state.settings.params.mlflow.model_name
    try:
        move = await asyncio.to_thread(registry_rollback, state.settings.paths, name)
    except RegistryError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from None
    model = await asyncio.to_thread(state.holder.refresh)
    serving = model.version if model else None
    return {"champion": move.champion, "demoted": move.previous, "model_version": serving}


@router.post(
    "/canary",
    responses={**READ_ONLY, 409: {}, 422: {}},
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": CanaryShare.model_json_schema()}}}},
)  # fmt: skip
async def set_canary(request: Request, state: State) -> dict[str, Any]:
    """Set the share of customers the challenger answers (0 stops the canary)."""
    return await apply_canary_share(request, state)


async def apply_canary_share(request: Request, state: ServiceState) -> dict[str, Any]:
    """Read the new share (after the token check), load the challenger if needed, set it."""
    try:  # read here, after the token check
        body = CanaryShare.model_validate_json(await read_body(request, 4096))
    except ValidationError as err:
        raise invalid(err) from None
    if body.share > 0 and state.challenger.current is None:
        await state.refresh_challenger()
        if state.challenger.current is None:
            why = state.challenger.last_error or "not loaded"
            raise HTTPException(status.HTTP_409_CONFLICT, f"no challenger to send to: {why}")
    state.canary.set_share(body.share, "operator")
    state.metrics.canary_share.set(state.canary.share)
    return {**state.canary.status(), "challenger": state.challenger_info()}
