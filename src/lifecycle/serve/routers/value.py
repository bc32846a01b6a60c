"""The value page in the service: /value (page), /value/api/data (JSON); the ledger's viewer role.

(No `from __future__ import annotations`: FastAPI must see the dependency objects.)
"""

import asyncio
from typing import Any

from fastapi import Response

from lifecycle.serve.routers.viewer import Source, html_page, viewer_router
from lifecycle.value.dashboard import page_html, value_data

router = viewer_router("/value")


@router.get("", include_in_schema=False)
async def page() -> Response:
    """Value against cost per version and month, the estimate's band, retrains, verdicts."""
    return html_page(page_html())


@router.get("/api/data")
async def data(source: Source) -> dict[str, Any]:
    """What the page draws (the ledger's value entries against its costs)."""
    return await asyncio.to_thread(value_data, source.params, source.url)
