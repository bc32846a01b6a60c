"""The value page in the service: /value (page), /value/api/data (JSON); the ledger's viewer role.

(No `from __future__ import annotations`: FastAPI must see the dependency objects.)
"""

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Response

from lifecycle.serve.routers.ledger import Source, require_ledger_viewer
from lifecycle.value.dashboard import page_html, value_data

router = APIRouter(
    prefix="/value", dependencies=[Depends(require_ledger_viewer)], responses={401: {}, 403: {}}
)


@router.get("", include_in_schema=False)
async def page() -> Response:
    """Value against cost per version and month, the estimate's band, retrains, verdicts."""
    return Response(page_html(), media_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store"})  # fmt: skip


@router.get("/api/data")
async def data(source: Source) -> dict[str, Any]:
    """What the page draws (the ledger's value entries against its costs)."""
    return await asyncio.to_thread(value_data, source.params, source.url)
