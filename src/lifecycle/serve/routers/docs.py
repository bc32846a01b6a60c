"""Swagger UI and ReDoc from files shipped in a wheel, so /docs and /redoc render offline.

FastAPI's own pages load their JavaScript, CSS, favicon (and ReDoc's Google fonts) from CDNs
and stay blank without internet; these serve the same pages from `fastapi_offline`'s static
folder under /static/docs. Open like FastAPI's defaults (no role): they only show the schema.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException, Request, status
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import FileResponse, HTMLResponse

router = APIRouter(include_in_schema=False)

STATIC = "/static/docs"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}
# ReDoc's sidebar always draws a Redocly logo from cdn.redoc.ly; this keeps the browser from
# asking (the image's error handler then hides it), so the page reaches nothing outside.
REDOC_POLICY = {"Content-Security-Policy": "img-src 'self' data:"}


def asset_dir() -> Path:
    """Where the wheel keeps the Swagger UI and ReDoc files (read at request time, not import)."""
    return Path(str(resources.files(fastapi_offline) / "static"))


def base(request: Request) -> tuple[str, str]:
    """The static prefix and the OpenAPI URL, both under the app's root path (behind a proxy)."""
    root = str(request.scope.get("root_path", "")).rstrip("/")
    return f"{root}{STATIC}", f"{root}{request.app.openapi_url}"


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI, its script, style and icon from this service."""
    static, openapi_url = base(request)
    return get_swagger_ui_html(
        openapi_url=openapi_url,
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{static}/swagger-ui-bundle.js",
        swagger_css_url=f"{static}/swagger-ui.css",
        swagger_favicon_url=f"{static}/favicon.png",
        oauth2_redirect_url=OAUTH2_REDIRECT,
    )


@router.get(OAUTH2_REDIRECT)
async def swagger_ui_redirect() -> HTMLResponse:
    """The page Swagger UI's OAuth2 flow returns to (inline script, no assets)."""
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    """ReDoc, its script and icon from this service; no Google fonts, no Redocly logo."""
    static, openapi_url = base(request)
    page = get_redoc_html(
        openapi_url=openapi_url,
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{static}/redoc.standalone.js",
        redoc_favicon_url=f"{static}/favicon.png",
        with_google_fonts=False,
    )
    page.headers.update(REDOC_POLICY)
    return page


@router.get(f"{STATIC}/{{name}}")
async def asset(name: str) -> FileResponse:
    """One of the four known files (a fixed list: no path from the request reaches the disk)."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such asset")
    return FileResponse(
        asset_dir() / name, media_type=media_type, headers={"Cache-Control": "max-age=86400"}
    )
