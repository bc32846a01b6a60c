"""The routes' dependencies: the service state and the three bearer-token roles.

(No `from __future__ import annotations` here: FastAPI must see the dependency objects.)
"""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from lifecycle.serve.auth import check_admin, check_outcomes, check_viewer
from lifecycle.serve.state import ServiceState

ADMIN_BEARER = HTTPBearer(auto_error=False, description="LIFECYCLE_ADMIN_TOKEN (operator)")
VIEWER_BEARER = HTTPBearer(
    auto_error=False, description="LIFECYCLE_VIEWER_TOKEN (or the operator's)"
)


async def service_state(request: Request) -> ServiceState:
    """The app's shared state (async, so FastAPI does not send it to a thread)."""
    state: ServiceState = request.app.state.service
    return state


State = Annotated[ServiceState, Depends(service_state)]
AdminCreds = Annotated[HTTPAuthorizationCredentials | None, Depends(ADMIN_BEARER)]
OUTCOMES_BEARER = HTTPBearer(
    auto_error=False, description="LIFECYCLE_OUTCOMES_TOKEN (or the operator's)"
)
OutcomesCreds = Annotated[HTTPAuthorizationCredentials | None, Depends(OUTCOMES_BEARER)]
ViewerCreds = Annotated[HTTPAuthorizationCredentials | None, Depends(VIEWER_BEARER)]


async def require_admin(state: State, creds: AdminCreds) -> None:
    """Only the operator token passes (see `lifecycle.serve.auth`)."""
    check_admin(creds, state.settings.admin_token)


async def require_viewer(state: State, creds: ViewerCreds) -> None:
    """Open while no viewer token is set; then the viewer's or the operator's token."""
    settings = state.settings
    check_viewer(creds, settings.viewer_token, settings.admin_token)


async def require_outcomes(state: State, creds: OutcomesCreds) -> str:
    """The outcomes or the operator token; which role passed (for the audit trail)."""
    settings = state.settings
    return check_outcomes(creds, settings.outcomes_token, settings.admin_token)


Role = Annotated[str, Depends(require_outcomes)]
ADMIN = Depends(require_admin)
VIEWER = Depends(require_viewer)
READ_ONLY: dict[int | str, dict[str, object]] = {401: {}, 403: {}}
