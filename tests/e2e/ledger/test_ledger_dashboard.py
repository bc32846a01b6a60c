"""The dashboard in headless Chromium: loads clean, draws every chart, shows the ledger's totals."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lifecycle.config import Params
from lifecycle.ledger.dashboard import make_server
from lifecycle.ledger.report import summarize
from tests.e2e.ledger.seed import seed_ledger

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[3] / "reports" / "test-artifacts"
CHARTS = ("chart-phase", "chart-flow", "chart-split", "chart-budget", "chart-versions")


@pytest.fixture
def dashboard(params: Params, sqlite_url: str) -> Iterator[str]:
    """A seeded ledger served by the real dashboard server on a free loopback port."""
    seed_ledger(params, sqlite_url, 400)
    server = make_server(params, sqlite_url, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host!s}:{port}"
    server.shutdown()
    server.server_close()


def test_data_endpoint_totals_equal_the_ledger(dashboard: str, sqlite_url: str) -> None:
    """The JSON the page draws from carries the same totals as the report."""
    data = httpx.get(f"{dashboard}/api/data", timeout=30).json()
    totals = summarize(url=sqlite_url).totals
    assert data["totals"]["entries"] == totals.entries
    assert data["totals"]["total_usd"] == pytest.approx(totals.total_usd)
    assert sum(data["actual"]) == pytest.approx(totals.total_usd)
    assert len(data["costliest"]) == 20
    assert data["costliest"][0]["links"]["mlflow"].startswith("http")
    assert data["predictions"] > 0


def test_dashboard_is_read_only(dashboard: str) -> None:
    """Nothing but GET is served; unknown paths are 404."""
    assert httpx.post(f"{dashboard}/api/data", timeout=10).status_code == 501
    assert httpx.get(f"{dashboard}/nope", timeout=10).status_code == 404
    js = httpx.get(f"{dashboard}/static/plotly.min.js", timeout=10)
    assert js.status_code == 200
    assert len(js.content) > 1_000_000


@pytest.mark.slow
@pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and os.environ.get("CI", "").lower() != "true",
    reason=f"{CHROMIUM} not installed (apt-get install chromium)",
)
def test_dashboard_in_chromium(dashboard: str, sqlite_url: str) -> None:
    """No console error, every chart rendered, totals equal the ledger's, screenshot kept."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    outside: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1500})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on(
            "request",
            lambda r: outside.append(r.url) if not r.url.startswith(dashboard) else None,
        )
        page.goto(dashboard + "/", wait_until="load")
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        for chart in CHARTS:
            assert page.locator(f"#{chart} .main-svg").count() >= 1, chart
            assert page.locator(f"#{chart} .trace").count() >= 1, chart
        shown = {
            k: float(page.get_attribute(f"#{k}", "data-value") or "nan")
            for k in ("total-usd", "compute-usd", "staff-usd", "entries")
        }
        rows = page.locator("#costliest tbody tr").count()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / "ledger-dashboard.png"
        page.screenshot(path=str(shot), full_page=True)
        print(f"dashboard screenshot: {shot}")
        browser.close()
    totals = summarize(url=sqlite_url).totals
    assert errors == []
    assert outside == []
    assert rows == 20
    assert shown["entries"] == totals.entries
    assert shown["total-usd"] == pytest.approx(totals.total_usd)
    assert shown["compute-usd"] == pytest.approx(totals.compute_usd)
    assert shown["staff-usd"] == pytest.approx(totals.staff_usd)
    assert shot.stat().st_size > 10_000
