"""The retrain policy weighing value: N of M violating windows and uplift against retrain cost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from lifecycle.config import ConfigError, Params, parse_params
from lifecycle.value.policy import value_verdict
from lifecycle.value.store import REALIZED, ValueEntry, record

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def _period(i: int, usd: float, version: str = "1", decay: bool = False) -> ValueEntry:
    when = T0 + timedelta(days=30 * i)
    return ValueEntry(
        model_name="telco-churn", period=f"m{i}", period_start=when, period_end=when,
        model_version=version, status=REALIZED, rows=500, labelled_rows=500, contacted=100,
        calibration="none", value_usd=usd, est_value_usd=usd, decay=decay,
    )  # fmt: skip


@pytest.fixture
def value_on(make_params: Callable[..., Params]) -> Params:
    return make_params(value={"retrain_policy": "value", "violations_needed": 2,
                              "violations_window": 3, "horizon_periods": 3})  # fmt: skip


def test_two_of_three_windows_below_the_reference_and_an_uplift_worth_it(
    value_on: Params, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    for i, usd in enumerate([10_000, 10_000, 9_500, 6_000, 5_000]):
        record(_period(i, usd), url)
    got = value_verdict(value_on, url)
    assert got.allowed and (got.violations, got.windows) == (2, 3)
    # reference 20 USD a customer, recent (9500+6000+5000)/1500 = 13.67: gap x 500 x 3 periods
    assert got.uplift_usd == pytest.approx((20 - 20_500 / 1500) * 500 * 3)
    assert got.cost_usd == value_on.retrain.planned_usd
    assert "2 of its last 3 window(s) violate" in got.reason
    assert "expected retrain cost 5.00 USD (retrain.planned_usd)" in got.reason


def test_one_bad_window_is_not_enough(value_on: Params, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    for i, usd in enumerate([10_000, 10_000, 9_800, 9_900, 5_000]):
        record(_period(i, usd), url)
    got = value_verdict(value_on, url)
    assert not got.allowed and got.violations == 1
    assert got.reason.startswith("value: not worth it yet: v1: 1 of its last 3")


def test_nothing_recorded_does_not_block(value_on: Params, tmp_path: Path) -> None:
    got = value_verdict(value_on, f"sqlite:///{tmp_path / 'ledger.db'}")
    assert got.allowed and "no value recorded yet" in got.reason


def test_n_of_m_is_checked(repo_params_mapping: dict[str, object]) -> None:
    raw = {**repo_params_mapping, "value": {"violations_needed": 4, "violations_window": 3}}
    with pytest.raises((ConfigError, ValueError), match="violations_needed = 4: must be <= "):
        parse_params(raw)
