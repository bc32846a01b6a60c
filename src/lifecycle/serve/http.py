"""Reading a request the routes share: a capped body, a safe request id, a bounded 422."""

from __future__ import annotations

import re
import uuid

from fastapi import HTTPException, Request, status
from pydantic import ValidationError

from lifecycle.serve.schema import error_details

MAX_ERRORS = 50
REQUEST_ID = re.compile(r"^[\w.\-]{1,64}$")


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes the limit."""
    declared = request.headers.get("content-length", "")
    too_big = f"request body is over the limit of {limit} bytes (serving.max_body_bytes)"
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, too_big)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, too_big)
        chunks.append(chunk)
    return b"".join(chunks)


def request_ids(request: Request) -> tuple[str, str | None]:
    """The server's new request id, and the caller's X-Request-ID (when a safe token) beside it.

    Request ids are the server's, so no caller can choose the id an outcome is filed under;
    the caller's own id is kept as a correlation field in the answer and the log.
    """
    given = request.headers.get("x-request-id", "")
    return uuid.uuid4().hex, given if REQUEST_ID.match(given) else None


def invalid(err: ValidationError) -> HTTPException:
    """422 naming each field and the rule it broke (the first MAX_ERRORS of them)."""
    return HTTPException(422, error_details(err)[:MAX_ERRORS])
