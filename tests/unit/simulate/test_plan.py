"""The simulation's options: defaults from params, clear errors for bad ones, in the CLI too."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lifecycle.config import Params
from lifecycle.simulate.plan import SimulationError, make_plan

ROOT = Path(__file__).resolve().parents[3]


def test_plan_defaults_come_from_params(params: Params) -> None:
    plan = make_plan(params, scenario="tenure_relation")
    assert plan.months == params.simulation.months
    assert plan.drift_from == params.simulation.drift_from_month
    assert plan.retrain == "event"
    assert plan.scenario_of(plan.drift_from - 1) is None
    assert plan.scenario_of(plan.drift_from) == "tenure_relation"
    assert make_plan(params, 3, "none").scenario is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"months": 0}, "--months 0: must be between 1 and 6"),
        ({"months": 7}, "--months 7: must be between 1 and 6"),
        ({"scenario": "meteor"}, "--scenario 'meteor': not one of ['none', 'contract_mix'"),
        ({"months": 3, "scenario": "price_increase", "drift_from": 4}, "--drift-from 4"),
        ({"scenario": "price_increase", "drift_from": 0}, "--drift-from 0"),
        ({"retrain": "carrier-pigeon"}, "--retrain 'carrier-pigeon'"),
    ],
)
def test_bad_options_are_clear_errors(params: Params, kwargs: dict, message: str) -> None:
    with pytest.raises(SimulationError) as err:
        make_plan(params, **kwargs)
    assert message in str(err.value)


def test_cli_refuses_an_unknown_scenario_and_months_out_of_range(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lifecycle.cli import app

    monkeypatch.setenv("LIFECYCLE_HOME", str(tmp_path))
    monkeypatch.setenv("LIFECYCLE_PARAMS", str(ROOT / "params.yaml"))
    runner = CliRunner()
    bad = runner.invoke(app, ["simulate", "--scenario", "meteor"])
    assert bad.exit_code == 1 and "--scenario 'meteor': not one of" in bad.output
    far = runner.invoke(app, ["simulate", "--months", "99"])
    assert far.exit_code == 1 and "--months 99: must be between 1 and 6" in far.output
