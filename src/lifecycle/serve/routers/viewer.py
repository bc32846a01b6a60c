"""What the viewer-role pages share: the ledger source, the viewer check with a Basic challenge
for browsers, a router behind it, and the no-store HTML answer of each page.

(No `from __future__ import annotations`: FastAPI must see the dependency objects.)
"""

import base64
import binascii
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.security import HTTPAuthorizationCredentials

from lifecycle.config import Params
from lifecycle.serve.auth import check_viewer

CHALLENGE = 'Basic realm="ledger dashboard", charset="UTF-8", Bearer'


@dataclass(frozen=True)
class LedgerSource:
    """Which ledger the dashboard reads, with which params, and the role tokens (never shown)."""

    params: Params
    url: str | None = None
    viewer_token: str | None = field(default=None, repr=False)
    admin_token: str | None = field(default=None, repr=False)


async def ledger_source(request: Request) -> LedgerSource:
    """The dashboard's own source, else the service's params and tokens (default ledger)."""
    source: LedgerSource | None = getattr(request.app.state, "ledger", None)
    if source is None:
        settings = request.app.state.service.settings
        source = LedgerSource(settings.params, None, settings.viewer_token, settings.admin_token)
        request.app.state.ledger = source
    return source


Source = Annotated[LedgerSource, Depends(ledger_source)]


def presented(header: str) -> HTTPAuthorizationCredentials | None:
    """The token of a Bearer header, or the password of a Basic one (None when neither)."""
    scheme, _, value = header.partition(" ")
    token: str | None = None
    if scheme.lower() == "bearer":
        token = value.strip() or None
    elif scheme.lower() == "basic":
        try:
            token = base64.b64decode(value.strip(), validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            token = None
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token) if token else None


async def require_ledger_viewer(request: Request, source: Source) -> None:
    """The viewer role; a missing token is answered with a Basic challenge for browsers."""
    creds = presented(request.headers.get("authorization", ""))
    try:
        check_viewer(creds, source.viewer_token, source.admin_token)
    except HTTPException as err:
        if err.status_code == 401:
            raise HTTPException(401, err.detail, headers={"WWW-Authenticate": CHALLENGE}) from None
        raise


def viewer_router(prefix: str) -> APIRouter:
    """A router whose every route asks for the viewer role (401/403 in its schema)."""
    return APIRouter(
        prefix=prefix, dependencies=[Depends(require_ledger_viewer)], responses={401: {}, 403: {}}
    )


def html_page(body: bytes) -> Response:
    """A page as the browser must take it: HTML, never cached (its data is fetched fresh)."""
    return Response(body, media_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store"})  # fmt: skip
