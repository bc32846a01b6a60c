"""Bearer-token roles: operators (LIFECYCLE_ADMIN_TOKEN), viewers (LIFECYCLE_VIEWER_TOKEN) and
outcomes (LIFECYCLE_OUTCOMES_TOKEN: the system that delivers real outcomes).

Operators call /admin/* (reload, rollback, canary share) and may read everything viewers read.
Viewers read /model, /shadow, /canary and /metrics. Those read-only routes stay open while no
viewer token is configured (a plain local setup and a Prometheus scrape keep working); once
LIFECYCLE_VIEWER_TOKEN is set they need the viewer or the operator token. /feedback (posting
and correcting outcomes) needs the outcomes or the operator token, always: fake outcomes would
reach decay monitoring, the shadow's profit check and the retrain window. /health, /ready and
/predict are never guarded here.

No header: 401 with `WWW-Authenticate: Bearer`. A token that is not allowed on the route (an
unknown one, or a viewer's on an operator route), or no operator token configured at all:
403, with one message that names neither role's routes. Every configured token is compared
in constant time (hmac.compare_digest, all of them, no early exit), and no token is ever
logged or echoed: the settings object hides them from repr and messages never quote one.
The FastAPI dependencies that call these checks are in `lifecycle.serve.deps`.
"""

from __future__ import annotations

import hmac

from fastapi import HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials

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


def check_admin(creds: HTTPAuthorizationCredentials | None, token: str | None) -> None:
    """Let a request through only with the operator token (401 or 403 otherwise)."""
    if creds is None:
        raise _unauthorized("admin endpoints")
    allowed = _tokens(token)
    if not allowed:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "admin endpoints are disabled: LIFECYCLE_ADMIN_TOKEN is not set on the server",
        )
    if not matches(creds.credentials, allowed):
        raise HTTPException(status.HTTP_403_FORBIDDEN, NOT_ALLOWED)


def check_viewer(
    creds: HTTPAuthorizationCredentials | None, viewer_token: str | None, admin_token: str | None
) -> None:
    """Read-only routes: open without a viewer token, else the viewer's or the operator's."""
    if not viewer_token:
        return
    if creds is None:
        raise _unauthorized("read-only endpoints")
    if not matches(creds.credentials, _tokens(viewer_token, admin_token)):
        raise HTTPException(status.HTTP_403_FORBIDDEN, NOT_ALLOWED)


def check_outcomes(
    creds: HTTPAuthorizationCredentials | None, outcomes_token: str | None, admin_token: str | None
) -> str:
    """Outcomes need the outcomes or the operator token; the role that passed ("outcomes"...)."""
    if creds is None:
        raise _unauthorized("outcome endpoints")
    if not _tokens(outcomes_token, admin_token):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "outcome endpoints are disabled: neither LIFECYCLE_OUTCOMES_TOKEN nor "
            "LIFECYCLE_ADMIN_TOKEN is set on the server",
        )
    is_outcomes = matches(creds.credentials, _tokens(outcomes_token))
    is_admin = matches(creds.credentials, _tokens(admin_token))
    if not (is_outcomes or is_admin):
        raise HTTPException(status.HTTP_403_FORBIDDEN, NOT_ALLOWED)
    return "outcomes" if is_outcomes else "operator"
