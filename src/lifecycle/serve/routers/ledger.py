"""The cost dashboard in the service: /ledger (the portfolio of use cases), /ledger/costs (the
cost page, all use cases or ?use_case=<name>), their JSON under /ledger/api/, Plotly, viewer role.

Same role as /model and /metrics (`lifecycle.serve.auth.check_viewer`): open while no viewer
token is set, then the viewer's or the operator's token, as a Bearer header or as the password
of HTTP Basic, so a browser can log in (a 401 here asks for Basic). `dashboard_app` serves these
routes alone, for `lifecycle ledger dashboard`, without loading a model or metering serving.
(No `from __future__ import annotations`: FastAPI must see the dependency objects.)
"""

import asyncio
from typing import Annotated, Any, Literal

from fastapi import FastAPI, HTTPException, Query, Response
from fastapi.responses import RedirectResponse

from lifecycle.config import Params
from lifecycle.ledger.dashboard import Filters, dashboard_data, page_html, plotly_js, portfolio_html
from lifecycle.portfolio import page_params, portfolio_data
from lifecycle.serve.routers.viewer import LedgerSource, Source, html_page, viewer_router
from lifecycle.settings import get_settings

Period = Literal["all", "month", "3m", "6m", "12m"]
USE_CASE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"


router = viewer_router("/ledger")


@router.get("", include_in_schema=False)
async def portfolio_page() -> Response:
    """The portfolio page, where the dashboard opens (it draws from /ledger/api/portfolio)."""
    return html_page(portfolio_html())


@router.get("/costs", include_in_schema=False)
async def page() -> Response:
    """The cost page, all use cases or ?use_case=<name> (it draws from /ledger/api/data)."""
    return html_page(page_html())


@router.get("/api/portfolio")
async def portfolio(source: Source) -> dict[str, Any]:
    """One row per use case: this month's cost against budget, value, health, its page."""
    root = get_settings().root
    return await asyncio.to_thread(portfolio_data, root, source.params, source.url)


@router.get("/static/plotly.min.js", include_in_schema=False)
async def plotly() -> Response:
    """The charting library from the installed plotly package (no CDN)."""
    return Response(plotly_js(), media_type="application/javascript",
                    headers={"Cache-Control": "max-age=3600"})  # fmt: skip


@router.get("/api/data")
async def data(
    source: Source,
    period: Period = "all",
    phase: Annotated[str | None, Query(max_length=40)] = None,
    flow: Annotated[str | None, Query(max_length=200)] = None,
    model_version: Annotated[str | None, Query(max_length=200)] = None,
    use_case: Annotated[str | None, Query(pattern=USE_CASE_PATTERN)] = None,
) -> dict[str, Any]:
    """What the page draws: totals, months, budgets, forecast, costliest runs (filtered); one
    use case's page is measured against that use case's budget."""
    filters = Filters(period, phase or None, flow or None, model_version or None, use_case or None)
    params = source.params
    if use_case:
        try:
            params = await asyncio.to_thread(page_params, get_settings().root, use_case, params)
        except (OSError, ValueError) as err:
            detail = f"use_case = {use_case!r}: no readable params ({err})"
            raise HTTPException(404, detail) from None
    return await asyncio.to_thread(dashboard_data, params, source.url, None, filters, source.params)


def dashboard_app(params: Params, url: str | None = None) -> FastAPI:
    """The dashboard's routes alone (tokens from settings): no model, no serving meter."""
    app = FastAPI(title="Cost ledger", docs_url=None, redoc_url=None, openapi_url=None)
    s = get_settings()
    app.state.ledger = LedgerSource(params, url, s.viewer_token, s.admin_token)
    app.include_router(router)

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        """The page lives under /ledger, as in the service."""
        return RedirectResponse("/ledger")

    return app
