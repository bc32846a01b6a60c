"""/docs and /redoc render with the network cut: every asset comes from the service itself."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page

from tests.e2e.offline.browser import needs_chromium, offline_page
from tests.e2e.serve.conftest import Server, launch
from tests.integration.serve.project import Project, copy_project


@pytest.fixture(scope="module")
def server(serving_template: Project, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`lifecycle serve` on loopback over a copy of the session's trained project."""
    project = copy_project(serving_template, tmp_path_factory.mktemp("offline") / "project")
    yield from launch(project)


def test_doc_pages_name_only_local_assets(server: Server) -> None:
    """No CDN address in either page; the assets they name are served here, unknown ones 404."""
    for path in ("/docs", "/redoc"):
        page = httpx.get(server.url + path, timeout=10)
        assert page.status_code == 200, path
        assert "cdn." not in page.text and "googleapis" not in page.text, path
        assert "/static/docs/" in page.text, path
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png"):
        asset = httpx.get(f"{server.url}/static/docs/{name}", timeout=10)
        assert asset.status_code == 200, name
        assert len(asset.content) > 1_000, name
    assert httpx.get(f"{server.url}/static/docs/..%2Fcore.py", timeout=10).status_code == 404
    assert httpx.get(f"{server.url}/static/docs/core.py", timeout=10).status_code == 404
    redoc = httpx.get(server.url + "/redoc", timeout=10)
    assert redoc.headers["content-security-policy"] == "img-src 'self' data:"


@pytest.mark.slow
@needs_chromium
def test_swagger_ui_renders_offline(server: Server) -> None:
    """Swagger UI draws the /predict operation and asks nothing of the internet."""
    with offline_page() as (page, cut):
        assert isinstance(page, Page)
        page.goto(server.url + "/docs", wait_until="load")
        page.wait_for_selector(".opblock-summary-path", timeout=30_000)
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        title = page.locator(".info .title").first.inner_text()
    assert cut.aborted == []
    assert cut.errors == []
    assert any(p.strip().replace("\u200b", "") == "/predict" for p in paths), paths
    assert "churn scoring" in title


@pytest.mark.slow
@needs_chromium
def test_redoc_renders_offline(server: Server) -> None:
    """ReDoc draws the title and the /predict operation and asks nothing of the internet."""
    with offline_page() as (page, cut):
        assert isinstance(page, Page)
        page.goto(server.url + "/redoc", wait_until="load")
        page.wait_for_selector("h1", timeout=30_000)
        page.wait_for_selector("[id^='operation/']", timeout=30_000)
        title = page.locator("h1").first.inner_text()
        operations = page.locator("[id^='operation/']").count()
        predict = page.locator("[id^='operation/'] >> text=/predict").count()
    assert cut.aborted == []
    assert cut.errors == []
    assert "churn scoring" in title
    assert operations >= 3
    assert predict >= 1
