"""POST /feedback: real outcomes by the server's request ids, once; PUT corrects one, audited.

All need the outcomes role (or the operator's), checked before the body is read. The same
handlers answer /use-cases/<name>/feedback... for another use case's outcome store.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Request, status
from pydantic import BaseModel, Field, ValidationError

from lifecycle.serve.deps import Role, State
from lifecycle.serve.http import invalid, read_body
from lifecycle.serve.openapi import ERRORS
from lifecycle.serve.outcomes import NoOutcomeError, OutcomeConflictError
from lifecycle.serve.state import ServiceState

router = APIRouter(responses={401: {}, 403: {}})
RequestId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[\w.\-]+$")]


class CorrectionBody(BaseModel):
    """A corrected outcome: which record, the new outcome, and why."""

    record: int = Field(default=0, ge=0, lt=2**53, strict=True)
    outcome: str | int
    reason: str = Field(min_length=1, max_length=500)


# the body PUT reads itself (after the role check), shown in the OpenAPI document
CORRECTION_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": CorrectionBody.model_json_schema()}}}}  # fmt: skip


@router.post("/feedback", responses={k: ERRORS[k] for k in (409, 413, 422)})
async def feedback(request: Request, state: State, role: Role) -> dict[str, int]:
    """Real outcomes by request id (JSON, or a JSON-lines file), each written once."""
    return await record_outcomes(request, state, role)


@router.put(
    "/feedback/{request_id}",
    responses={404: {}, **{k: ERRORS[k] for k in (413, 422)}},
    openapi_extra=CORRECTION_BODY,
)
async def correct(
    request_id: RequestId, request: Request, state: State, role: Role
) -> dict[str, Any]:
    """Correct one recorded outcome, with a reason; audited (who, when, old, new)."""
    return await correct_outcome(request_id, request, state, role)


@router.get("/feedback/{request_id}/corrections")
async def corrections(request_id: RequestId, state: State, role: Role) -> list[dict[str, Any]]:
    """The audit trail of one request's outcome corrections, oldest first."""
    return await correction_history(request_id, state)


async def record_outcomes(request: Request, state: ServiceState, role: str) -> dict[str, int]:
    """Parse a body of outcomes against the use case's schema and record each once."""
    raw = await read_body(request, state.settings.params.serving.max_body_bytes)
    kind = request.headers.get("content-type", "")
    if "ndjson" in kind or "jsonl" in kind:
        raw = b"[" + b",".join(ln for ln in raw.splitlines() if ln.strip()) + b"]"
    try:
        items = state.schema.feedback.parse(raw)
    except ValidationError as err:
        raise invalid(err) from None
    try:
        written = await asyncio.to_thread(state.outcomes.record, items, role)
    except OutcomeConflictError as err:
        raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from None
    return {"accepted": written}


async def correct_outcome(
    request_id: str, request: Request, state: ServiceState, role: str
) -> dict[str, Any]:
    """Check a correction against the use case's labels and record it, audited."""
    raw = await read_body(request, 64_000)
    try:
        body = CorrectionBody.model_validate_json(raw)
    except ValidationError as err:
        raise invalid(err) from None
    labels = state.settings.params.validation.target_labels
    if body.outcome not in labels:
        raise HTTPException(422, f"outcome = {body.outcome!r}: must be one of {list(labels)}")
    try:
        fix = await asyncio.to_thread(
            state.outcomes.correct, request_id, body.record, body.outcome, body.reason, role
        )
    except NoOutcomeError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from None
    return fix.__dict__


async def correction_history(request_id: str, state: ServiceState) -> list[dict[str, Any]]:
    """One request's corrections in the use case's outcome store, oldest first."""
    found = await asyncio.to_thread(state.outcomes.history, request_id)
    return [c.__dict__ for c in found]
