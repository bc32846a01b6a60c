"""POST /feedback: real outcomes by request id, appended for the join with the log."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from pydantic import ValidationError

from lifecycle.serve.deps import State
from lifecycle.serve.http import invalid, read_body
from lifecycle.serve.openapi import ERRORS
from lifecycle.serve.predlog import append_feedback

router = APIRouter()


@router.post("/feedback", responses={k: ERRORS[k] for k in (413, 422)})
async def feedback(request: Request, state: State) -> dict[str, int]:
    """Real outcomes by request id (JSON, or a JSON-lines file), joined to the log later."""
    raw = await read_body(request, state.settings.params.serving.max_body_bytes)
    kind = request.headers.get("content-type", "")
    if "ndjson" in kind or "jsonl" in kind:
        raw = b"[" + b",".join(ln for ln in raw.splitlines() if ln.strip()) + b"]"
    try:
        items = state.schema.feedback.parse(raw)
    except ValidationError as err:
        raise invalid(err) from None
    paths = state.settings.paths
    written = await asyncio.to_thread(append_feedback, paths, items, state.feedback_lock)
    return {"accepted": written}
