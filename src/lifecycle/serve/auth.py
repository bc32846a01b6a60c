"""Bearer-token roles: operators (LIFECYCLE_ADMIN_TOKEN) and viewers (LIFECYCLE_VIEWER_TOKEN).

Operators call /admin/* (reload, rollback, canary share) and may read everything viewers read.
Viewers read /model, /shadow, /canary and /metrics. Those read-only routes stay open while no
viewer token is configured (a plain local setup and a Prometheus scrape keep working); once
LIFECYCLE_VIEWER_TOKEN is set they need the viewer or the operator token. /health, /ready,
/predict and /feedback are never guarded here.

No header: 401 with `WWW-Authenticate: Bearer`. A token that is not allowed on the route (an
unknown one, or a viewer's on an operator route), or no operator token configured at all:
403, with one message that names neither role's routes. Every configured token is compared
in constant time (hmac.compare_digest, all of them, no early exit), and no token is ever
logged or echoed: the settings object hides them from repr and messages never quote one.
(No `from __future__ import annotations` here: FastAPI must see the dependency object.)
"""

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

Guard = Callable[[HTTPAuthorizationCredentials | None], Awaitable[None]]
NOT_ALLOWED = "this bearer token may not call this endpoint"


def matches(given: str, allowed: tuple[bytes, ...]) -> bool:
    """Whether the token is one of the allowed ones, comparing with every one in constant time."""
    raw = given.encode()
    found = False
    for token in allowed:
        found |= hmac.compare_digest(raw, token)
    return found


def _tokens(*tokens: str | None) -> tuple[bytes, ...]:
    """The configured (non-empty) tokens as bytes."""
    return tuple(t.encode() for t in tokens if t)


def _unauthorized(what: str) -> HTTPException:
    """401 asking for a bearer token."""
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        f"{what} need an 'Authorization: Bearer <token>' header",
        headers={"WWW-Authenticate": "Bearer"},
    )


def admin_guard(token: str | None) -> Guard:
    """A FastAPI dependency that lets a request through only with the operator token."""
    allowed = _tokens(token)
    bearer = HTTPBearer(auto_error=False, description="LIFECYCLE_ADMIN_TOKEN (operator)")

    async def guard(
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        if creds is None:
            raise _unauthorized("admin endpoints")
        if not allowed:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "admin endpoints are disabled: LIFECYCLE_ADMIN_TOKEN is not set on the server",
            )
        if not matches(creds.credentials, allowed):
            raise HTTPException(status.HTTP_403_FORBIDDEN, NOT_ALLOWED)

    return guard


def viewer_guard(viewer_token: str | None, admin_token: str | None) -> Guard:
    """A dependency for read-only routes: open without a viewer token, else viewer or operator."""
    allowed = _tokens(viewer_token, admin_token)
    bearer = HTTPBearer(auto_error=False, description="LIFECYCLE_VIEWER_TOKEN (or the operator's)")

    async def guard(
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        if not viewer_token:
            return
        if creds is None:
            raise _unauthorized("read-only endpoints")
        if not matches(creds.credentials, allowed):
            raise HTTPException(status.HTTP_403_FORBIDDEN, NOT_ALLOWED)

    return guard
