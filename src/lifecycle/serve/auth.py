"""Bearer-token guard of the admin endpoints (token from LIFECYCLE_ADMIN_TOKEN).

No header: 401 with `WWW-Authenticate: Bearer`. A wrong token, or no token configured at all:
403. The comparison is constant-time (hmac.compare_digest) and the token is never logged or
echoed: the settings object hides it from repr and messages never quote what was sent.
(No `from __future__ import annotations` here: FastAPI must see the dependency object.)
"""

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

Guard = Callable[[HTTPAuthorizationCredentials | None], Awaitable[None]]


def admin_guard(token: str | None) -> Guard:
    """A FastAPI dependency that lets a request through only with the right bearer token."""
    expected = token.encode() if token else None
    bearer = HTTPBearer(auto_error=False, description="LIFECYCLE_ADMIN_TOKEN")

    async def guard(
        creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        if creds is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "admin endpoints need an 'Authorization: Bearer <token>' header",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if expected is None:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                "admin endpoints are disabled: LIFECYCLE_ADMIN_TOKEN is not set on the server",
            )
        if not hmac.compare_digest(creds.credentials.encode(), expected):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "the bearer token is not valid")

    return guard
