"""The portfolio's rows: each use case's cost against its own budget, value, health, its page."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from lifecycle.config import Params
from lifecycle.paths import DEFAULT_USE_CASE
from lifecycle.portfolio import portfolio_data, portfolio_rows
from tests.integration.ledger.portfolio_seed import OTHER, OTHER_BUDGET, seed_portfolio


def test_one_row_per_use_case_with_cost_budget_value_and_health(
    project_root: Path, params: Params, sqlite_url: str
) -> None:
    """Default first; cost this month per use case; the other's own budget; value; health."""
    now = datetime.now(UTC)
    this = seed_portfolio(project_root, params, sqlite_url, now)
    rows = {r.name: r for r in portfolio_rows(project_root, params, sqlite_url, now)}
    assert list(rows) == [DEFAULT_USE_CASE, OTHER]
    default, other = rows[DEFAULT_USE_CASE], rows[OTHER]
    assert default.month_usd == pytest.approx(this[DEFAULT_USE_CASE])
    assert default.total_usd > default.month_usd  # last month's run counts all time only
    assert other.month_usd == pytest.approx(this[OTHER])
    assert (default.model_name, other.model_name) == (params.mlflow.model_name, OTHER)
    assert other.budget_usd == pytest.approx(sum(OTHER_BUDGET.values()))
    assert other.budget_share == pytest.approx(this[OTHER] / sum(OTHER_BUDGET.values()))
    assert (default.value_usd, default.value_status) == (pytest.approx(1234.5), "realized")
    assert other.value_usd is None
    assert other.health.drift_verdict == "drift" and default.health.drift_verdict is None
    assert other.health.last_retrain_status == "succeeded" and default.health.last_retrain is None
    assert other.health.champion_version is None  # no MLflow store: not created by reading
    assert not (project_root / "mlflow.db").exists()
    assert other.link == "/ledger/costs?use_case=churn-b"


def test_portfolio_totals_add_up_and_a_broken_use_case_keeps_its_cost(
    project_root: Path, params: Params, sqlite_url: str
) -> None:
    """The totals are the rows' sums; unreadable params are named, the cost still shown."""
    now = datetime.now(UTC)
    this = seed_portfolio(project_root, params, sqlite_url, now)
    (project_root / "use_cases" / OTHER / "params.yaml").write_text("train: {threshold: 7}\n")
    data = portfolio_data(project_root, params, sqlite_url, now)
    assert data["totals"]["month_usd"] == pytest.approx(sum(this.values()))
    assert data["totals"]["use_cases"] == 2
    assert data["totals"]["value_usd"] == pytest.approx(1234.5)
    broken = data["use_cases"][1]
    assert broken["name"] == OTHER and broken["month_usd"] == pytest.approx(this[OTHER])
    assert broken["problem"].startswith("params unreadable") and broken["model_name"] is None
