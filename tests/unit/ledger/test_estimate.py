"""`ledger estimate`: a year by phase from params, equal to the hand computation, by actuals."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from lifecycle.config import Params, parse_params

PLAN: dict[str, Any] = {
    "hours_per_month": 100,
    "months": {"exploration": 1, "development": 2, "deployment": 1, "maintenance": 6},
    "team": {
        "exploration": {"data_scientist": 1.0},
        "development": {"data_scientist": 1.0, "ml_engineer": 0.5},
        "deployment": {"ml_engineer": 1.0},
        "maintenance": {"ml_engineer": 0.5},
    },
    "data_acquisition_usd": 1000,
    "labelling_usd_per_month": 100,
    "cloud_usd_per_month": {"development": 200, "maintenance": 50},
    "retrains_per_year": 12,
    "retrain_compute_usd": 10,
}
ROLES = {"data_scientist": 85.0, "ml_engineer": 95.0}
ACTIVITIES = {
    "retrain_review": {"role": "data_scientist", "hours": 1.5},
    "drift_investigation": {"role": "data_scientist", "hours": 3.0},
}
# by hand: a retrain is $10 of compute, 1.5 h + 3 h of a data scientist at $85
RETRAIN_UNIT = 10 + 4.5 * 85
EXPECTED = {  # phase: (staff, cloud, data, retrains)
    "exploration": (1.0 * 85 * 100 * 1, 0.0, 1000 + 100 * 1, 0.0),
    "development": ((85 + 0.5 * 95) * 100 * 2, 200 * 2, 100 * 2, 0.0),
    "deployment": (95 * 100 * 1, 0.0, 100 * 1, 0.0),
    "maintenance": (0.5 * 95 * 100 * 6, 50 * 6, 100 * 6, 12 * 6 / 12 * RETRAIN_UNIT),
}


def _params(base: Params, **plan: Any) -> Params:
    """The project's params with the plan above (overridden by plan's keys) and round rates."""
    raw = base.model_dump(mode="json")
    raw["estimate"] = {**PLAN, **plan}
    raw["staffing"] = {"roles": dict(ROLES), "activities": dict(ACTIVITIES)}
    return parse_params(raw)


def test_each_phase_equals_the_hand_computation(params: Params) -> None:
    """Staff, cloud, data and retrains per phase, and their total, as computed by hand."""
    from lifecycle.ledger.estimate import estimate, retrain_unit_usd

    p = _params(params)
    assert retrain_unit_usd(p) == pytest.approx(RETRAIN_UNIT)
    rows = {r.phase: r for r in estimate(p)}
    assert list(rows) == ["exploration", "development", "deployment", "maintenance"]
    for phase, (staff, cloud, data, retrain) in EXPECTED.items():
        row = rows[phase]
        assert (row.staff_usd, row.cloud_usd, row.data_usd, row.retrain_usd) == pytest.approx(
            (staff, cloud, data, retrain)
        ), phase
        assert row.total_usd == pytest.approx(staff + cloud + data + retrain)
        assert row.months == PLAN["months"][phase]
        assert row.actual_usd is None and row.actual_share is None


def test_data_acquisition_lands_in_the_first_planned_phase(params: Params) -> None:
    """Without an exploration phase the data is bought when development starts."""
    from lifecycle.ledger.estimate import estimate

    months = {"exploration": 0, "development": 3, "deployment": 1, "maintenance": 8}
    rows = {r.phase: r for r in estimate(_params(params, months=months))}
    assert rows["exploration"].total_usd == 0.0
    assert rows["development"].data_usd == pytest.approx(1000 + 100 * 3)
    assert rows["maintenance"].retrain_usd == pytest.approx(12 * 8 / 12 * RETRAIN_UNIT)


def test_retrains_without_review_activities_cost_their_compute(params: Params) -> None:
    """A staffing list without the review activities leaves a retrain its compute only."""
    from lifecycle.ledger.estimate import retrain_unit_usd

    raw = _params(params).model_dump(mode="json")
    raw["staffing"]["activities"] = {}
    assert retrain_unit_usd(parse_params(raw)) == pytest.approx(10.0)


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite ledger; pooled connections closed afterwards."""
    from lifecycle.ledger.session import dispose_engines

    yield f"sqlite:///{tmp_path / 'ledger.db'}"
    dispose_engines()


def test_actuals_from_the_ledger_sit_beside_the_estimate(
    params: Params, url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Logged work shows as each phase's actual and its share of the estimate, total included."""
    from lifecycle.ledger.estimate import _total, estimate, render
    from lifecycle.ledger.record import log_hours
    from lifecycle.ledger.report import summarize

    p = _params(params)
    day = datetime(2024, 1, 10, tzinfo=UTC)
    log_hours("data_scientist", 20.0, phase="exploration", day=day, params=p, url=url)
    log_hours("ml_engineer", 10.0, phase="deployment", day=day, params=p, url=url)
    actuals = {ph: t.total_usd for ph, t in summarize(url=url).by_phase.items()}
    rows = {r.phase: r for r in estimate(p, actuals)}
    explore_total = sum(EXPECTED["exploration"])
    assert rows["exploration"].actual_usd == pytest.approx(20 * 85.0)
    assert rows["exploration"].actual_share == pytest.approx(20 * 85.0 / explore_total)
    assert rows["deployment"].actual_usd == pytest.approx(10 * 95.0)
    assert rows["development"].actual_usd == 0.0
    assert rows["development"].to_dict()["actual_share"] == 0.0
    total = _total(list(rows.values()))
    assert total.actual_usd == pytest.approx(20 * 85.0 + 10 * 95.0)
    assert total.total_usd == pytest.approx(sum(sum(v) for v in EXPECTED.values()))

    render(list(rows.values()))
    out = capsys.readouterr().out
    assert f"{20 * 85.0:,.2f}" in out
    assert f"{20 * 85.0 / explore_total:.1%}" in out
    assert f"{total.total_usd:,.0f}" in out


def test_an_unknown_role_in_the_team_is_refused(params: Params) -> None:
    """A team member without a rate names the phase and the role."""
    from lifecycle.ledger.estimate import estimate
    from lifecycle.ledger.pricing import LedgerError

    team = {**PLAN["team"], "deployment": {"astronaut": 1.0}}
    with pytest.raises(LedgerError, match=r"estimate\.team\.deployment\.astronaut"):
        estimate(_params(params, team=team))
