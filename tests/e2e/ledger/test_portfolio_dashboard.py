"""The dashboard opens on the portfolio of use cases; a row drills down to that use case's page.

Read in headless Chromium, as `lifecycle ledger dashboard` serves it in its own process.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from lifecycle.config import Params
from lifecycle.ledger.report import Filters, summarize
from lifecycle.paths import DEFAULT_USE_CASE
from tests.e2e.ledger.seed import seed_ledger
from tests.e2e.ledger.served import dashboard_page, dashboard_process, show
from tests.e2e.offline.browser import needs_chromium
from tests.integration.ledger.portfolio_seed import OTHER, OTHER_BUDGET, seed_portfolio


@pytest.fixture
def served(params: Params, sqlite_url: str, project_root: Path, tmp_path: Path) -> Iterator[str]:
    """Two use cases in one ledger (the default one with months of history), served."""
    seed_ledger(params, sqlite_url, 120)
    seed_portfolio(project_root, params, sqlite_url, datetime.now(UTC))
    log = tmp_path / "dashboard.log"
    with dashboard_process(sqlite_url, log) as base:
        yield base


def test_portfolio_api_and_use_case_filter(served: str, sqlite_url: str) -> None:
    """The portfolio JSON has both use cases; ?use_case narrows the cost data to one."""
    doc = httpx.get(f"{served}/ledger/api/portfolio", timeout=30).json()
    assert [u["name"] for u in doc["use_cases"]] == [DEFAULT_USE_CASE, OTHER]
    whole = summarize(url=sqlite_url).totals
    assert doc["totals"]["total_usd"] == pytest.approx(whole.total_usd)
    one = httpx.get(f"{served}/ledger/api/data", params={"use_case": OTHER}, timeout=30).json()
    only = summarize(Filters(use_case=OTHER), url=sqlite_url).totals
    assert one["totals"]["entries"] == only.entries == 2
    assert one["totals"]["total_usd"] == pytest.approx(only.total_usd)
    assert {r["name"] for r in one["costliest"]} <= {"train", "retrain"}
    assert one["budget"]["budget"] == {"maintenance": OTHER_BUDGET["maintenance"]}  # its own
    everything = httpx.get(f"{served}/ledger/api/data", timeout=30).json()
    assert one["forecast"]["twelve_month_usd"] == pytest.approx(
        everything["forecast"]["twelve_month_usd"]
    )  # the forecast is the whole ledger's on every page
    assert len(one["alerts"]) == len(everything["alerts"])
    bad = httpx.get(f"{served}/ledger/api/data", params={"use_case": "Bad Name"}, timeout=30)
    assert bad.status_code == 422


@pytest.mark.slow
@needs_chromium
def test_portfolio_in_chromium(served: str, sqlite_url: str, tmp_path: Path) -> None:
    """A row per use case with cost, budget, value and health; its link opens its own page."""
    with dashboard_page(served) as (page, seen):
        show(page, served + "/ledger", tmp_path / "portfolio.png")
        names = page.locator("#portfolio tbody tr").evaluate_all(
            "(rows) => rows.map((r) => r.dataset.useCase)"
        )
        other = page.locator(f"#portfolio tbody tr[data-use-case='{OTHER}']")
        default = page.locator(f"#portfolio tbody tr[data-use-case='{DEFAULT_USE_CASE}']")
        texts = {
            "other_budget": other.locator("td.budget").inner_text(),
            "other_drift": other.locator("td.drift").inner_text(),
            "other_retrain": other.locator("td.retrain").inner_text(),
            "default_value": default.locator("td.value").inner_text(),
            "other_value": other.locator("td.value").inner_text(),
        }
        other_month = float(other.locator("td.month").get_attribute("data-value") or "nan")
        total = float(page.get_attribute("#total-usd", "data-value") or "nan")
        other.locator("a", has_text=OTHER).click()
        page.wait_for_url("**/ledger/costs?use_case=" + OTHER)
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        page.screenshot(path=str(tmp_path / "use-case.png"), full_page=True)
        title = page.inner_text("h1")
        shown = float(page.get_attribute("#total-usd", "data-value") or "nan")
        runs = page.locator("#costliest tbody tr").all_inner_texts()
        page.select_option("#f-flow", "retrain")
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        retrain_only = float(page.get_attribute("#total-usd", "data-value") or "nan")
        page.click("#to-portfolio")
        page.wait_for_selector("#portfolio tbody tr", timeout=30_000)
    only = summarize(Filters(use_case=OTHER), url=sqlite_url).totals
    retrain = summarize(Filters(use_case=OTHER, name="retrain"), url=sqlite_url).totals
    assert seen.errors == [] and seen.outside == []
    assert names == [DEFAULT_USE_CASE, OTHER]
    assert "% spent" in texts["other_budget"] and "$3.00" in texts["other_budget"]
    assert texts["other_drift"].startswith("drift (month_03")
    assert "(succeeded)" in texts["other_retrain"]
    assert "$1,234.50 (realized)" in texts["default_value"]
    assert texts["other_value"] == "no value entries yet"
    assert other_month == pytest.approx(only.total_usd)  # all of churn-b's runs are this month
    assert total == pytest.approx(summarize(url=sqlite_url).totals.total_usd)
    assert title == f"Cost ledger: use case {OTHER}"
    assert shown == pytest.approx(only.total_usd)
    assert len(runs) == 2
    assert retrain_only == pytest.approx(retrain.total_usd) and retrain_only < shown
