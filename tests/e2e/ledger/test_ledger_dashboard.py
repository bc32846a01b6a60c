"""The dashboard as `lifecycle ledger dashboard` serves it, read in headless Chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from lifecycle.config import Params
from lifecycle.ledger.dashboard import month_label
from lifecycle.ledger.report import summarize
from tests.e2e.ledger.seed import seed_ledger
from tests.e2e.ledger.served import dashboard_page, dashboard_process, show
from tests.e2e.offline.browser import needs_chromium

CHARTS = ("chart-month-budget", "chart-phase", "chart-budget", "chart-forecast",
          "chart-versions", "chart-flow")  # fmt: skip
TITLES = ("title-month-budget", "title-phase", "title-budget", "title-forecast",
          "title-versions", "title-flow", "title-costliest")  # fmt: skip
MONTH = re.compile(r"^(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}$")


@pytest.fixture
def dashboard(params: Params, sqlite_url: str, tmp_path: Path) -> Iterator[str]:
    """A seeded ledger served by `lifecycle ledger dashboard` in its own process."""
    seed_ledger(params, sqlite_url, 400)
    log = tmp_path / "dashboard.log"
    with dashboard_process(sqlite_url, log) as base:
        assert f"ledger dashboard on {base}/ledger" in log.read_text()
        yield base


def test_data_endpoint_totals_equal_the_ledger(dashboard: str, sqlite_url: str) -> None:
    """The JSON the page draws from carries the report's totals, readable months, no $0 rows."""
    data = httpx.get(f"{dashboard}/ledger/api/data", timeout=30).json()
    totals = summarize(url=sqlite_url).totals
    assert data["totals"]["entries"] == totals.entries
    assert data["totals"]["total_usd"] == pytest.approx(totals.total_usd)
    assert sum(data["actual"]) == pytest.approx(totals.total_usd)
    assert all(MONTH.match(m) for m in data["month_labels"])
    assert len(data["costliest"]) == 20
    assert all(r["total_usd"] >= 0.005 for r in data["costliest"])
    assert data["costliest"][0]["links"]["mlflow"].startswith("http")
    assert data["predictions"] > 0
    assert data["forecast"]["refused"] is None  # 180 days of history
    low, mid, high = (data["forecast"][k] for k in ("low", "expected", "high"))
    assert all(a <= b <= c for a, b, c in zip(low, mid, high, strict=True))
    monitor = httpx.get(f"{dashboard}/ledger/api/data", params={"flow": "monitor"}).json()
    assert {r["name"] for r in monitor["costliest"]} == {"monitor"}
    assert monitor["totals"]["total_usd"] < data["totals"]["total_usd"]


def test_dashboard_is_read_only(dashboard: str) -> None:
    """Nothing but GET is served; unknown paths are 404; Plotly comes from the package."""
    assert httpx.post(f"{dashboard}/ledger/api/data", timeout=10).status_code == 405
    assert httpx.get(f"{dashboard}/nope", timeout=10).status_code == 404
    js = httpx.get(f"{dashboard}/ledger/static/plotly.min.js", timeout=10)
    assert js.status_code == 200
    assert len(js.content) > 1_000_000


def _covered(page: object, element_id: str) -> str | None:
    """What covers the middle of an element, if anything else is on top there."""
    return page.evaluate(  # type: ignore[attr-defined, no-any-return]
        """(id) => {
          const el = document.getElementById(id);
          el.scrollIntoView({block: "center"});
          const b = el.getBoundingClientRect();
          const x = b.left + Math.min(b.width, 200) / 2, y = b.top + b.height / 2;
          const top = document.elementFromPoint(x, y);
          if (top === el || el.contains(top)) return null;
          return top ? top.outerHTML.slice(0, 80) : "nothing";
        }""",
        element_id,
    )


@pytest.mark.slow
@needs_chromium
def test_dashboard_in_chromium(dashboard: str, sqlite_url: str, tmp_path: Path) -> None:
    """What a manager must see: uncovered titles, months, budget, runs with links; filters work."""
    with dashboard_page(dashboard) as (page, seen):
        show(page, dashboard + "/ledger/costs", tmp_path / "dashboard.png")
        for chart in CHARTS:
            assert page.locator(f"#{chart} .main-svg").count() >= 1, chart
            assert page.locator(f"#{chart} .trace").count() >= 1, chart
        assert page.locator(".modebar").count() == 0  # no toolbar over any title
        covered = {t: _covered(page, t) for t in TITLES}
        ticks = page.locator("#chart-phase .xtick text").all_text_contents()
        this_month = page.inner_text("#this-month-card")
        headers = page.locator("#costliest thead th").all_inner_texts()
        rows = page.locator("#costliest tbody tr")
        before = rows.all_inner_texts()
        links = [
            (rows.nth(i).locator("a", has_text="Prefect").get_attribute("href"),
             rows.nth(i).locator("a", has_text="MLflow").get_attribute("href"))
            for i in range(rows.count())
        ]  # fmt: skip
        shown = {
            k: float(page.get_attribute(f"#{k}", "data-value") or "nan")
            for k in ("total-usd", "compute-usd", "staff-usd", "entries")
        }
        page.select_option("#f-flow", "monitor")
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        after = page.locator("#costliest tbody tr").all_inner_texts()
        redrawn = [page.locator(f"#{c} .trace").count() for c in CHARTS]
        filtered_total = float(page.get_attribute("#total-usd", "data-value") or "nan")
        page.screenshot(path=str(tmp_path / "dashboard-monitor.png"), full_page=True)
    totals = summarize(url=sqlite_url).totals
    assert seen.errors == []
    assert seen.outside == []
    assert covered == dict.fromkeys(TITLES)
    assert ticks and all(MONTH.match(t) for t in ticks), ticks
    assert month_label(datetime.now(UTC).strftime("%Y-%m")) in ticks
    assert "$" in this_month and "%" in this_month and "budget" in this_month
    assert "wall" in headers and "CPU" in headers
    assert len(before) == 20 and not any("\t$0.00\t" in r for r in before)
    assert all(p and "/runs/flow-run/" in p and m and "/#/runs/" in m for p, m in links)
    assert after != before and all("\tmonitor\t" in r for r in after)
    assert all(redrawn), dict(zip(CHARTS, redrawn, strict=True))
    assert filtered_total < shown["total-usd"]
    assert shown["entries"] == totals.entries
    assert shown["total-usd"] == pytest.approx(totals.total_usd)
    assert shown["compute-usd"] == pytest.approx(totals.compute_usd)
    assert shown["staff-usd"] == pytest.approx(totals.staff_usd)
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
