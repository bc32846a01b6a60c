"""Behavioural tests without a model: bad declarations at load, edges, steps, verdicts."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifecycle.behaviour import Check, directional, edge_rows, invariance
from lifecycle.config import ConfigError, Params, parse_params


def _params(raw: dict[str, Any], **behaviour: Any) -> Params:
    """The repo's params with the behaviour section replaced."""
    changed = copy.deepcopy(raw)
    changed["behaviour"] = {**changed.get("behaviour", {}), **behaviour}
    return parse_params(changed)


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ({"invariant": ["no_such"]}, r"behaviour\.invariant\.0 = 'no_such': not a column"),
        ({"directional": [{"column": "no_such", "direction": "not_increase", "step": 1}]},
         r"behaviour\.directional\.0\.column = 'no_such': not a feature"),
        ({"directional": [{"column": "contract", "direction": "not_increase", "step": 1}]},
         "a categorical column needs an order"),
        ({"directional": [{"column": "tenure", "direction": "not_increase", "order": ["a", "b"]}]},
         "a numeric column needs a step"),
        ({"directional": [{"column": "tenure", "direction": "up", "step": 1}]}, "direction"),
        ({"slices": [{"column": "nope", "min": 0.5}]}, r"behaviour\.slices\.0\.column = 'nope'"),
    ],
)  # fmt: skip
def test_bad_declarations_fail_at_load_naming_key_and_value(
    repo_params_mapping: dict[str, Any], behaviour: dict[str, Any], message: str
) -> None:
    """Unknown columns, a direction on an unordered categorical, a bad direction: ConfigError."""
    with pytest.raises(ConfigError, match=message):
        _params(repo_params_mapping, **behaviour)


def _rows(params: Params) -> pd.DataFrame:
    """Three customers with every column the table has."""
    base = {c: 1.0 for c in params.data.numeric}
    base.update({c: params.validation.categories[c][0] for c in params.data.categorical})
    rows = pd.DataFrame([base, base, base])
    rows[params.data.id_column] = ["a", "b", "c"]
    rows["contract"] = ["Month-to-month", "One year", "Two year"]
    rows["tenure"] = [1.0, 50.0, 119.0]  # the last clipped at 120: +1 month, within tolerance
    return rows


def test_edges_cover_min_max_null_and_every_category(repo_params_mapping: dict[str, Any]) -> None:
    """One row per min, max, allowed null and category; the other columns as the base row."""
    params = parse_params(repo_params_mapping)
    v = params.validation
    edges = edge_rows(_rows(params), params)
    nulls = sum(1 for share in v.max_null_fraction.values() if share > 0)
    assert len(edges) == 2 * len(v.ranges) + nulls + sum(len(c) for c in v.categories.values())
    assert set(edges["contract"]) == set(v.categories["contract"])
    assert edges["tenure"].min() == v.ranges["tenure"][0]
    assert edges["tenure"].max() == v.ranges["tenure"][1]
    assert edges["total_charges"].isna().sum() == 1


def test_a_step_up_is_judged_by_the_share_moving_the_wrong_way(
    repo_params_mapping: dict[str, Any],
) -> None:
    """Scores rising with tenure fail not_increase; the top contract cannot move; ids invariant."""
    params = parse_params(repo_params_mapping)
    rows = _rows(params)

    def rises(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(frame["tenure"].astype(float) / 200.0)

    checks = {c.name: c for c in directional(rows, params, rises)}
    tenure = checks["tenure"]
    assert not tenure.passed and tenure.figures["share_ok"] == pytest.approx(1 / 3)
    assert checks["contract"].passed and checks["contract"].figures["rows"] == 2
    (ids,) = invariance(rows, params, rises)
    assert ids == Check("invariance", "customer_id", True, ids.detail, {"max_change": 0.0})


@pytest.mark.parametrize(
    ("scenario", "lifted"), [("tenure_relation", True), ("price_increase", False), (None, False)]
)
def test_a_simulated_relation_scenario_lifts_the_expectation_on_its_column(
    repo_params_mapping: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    scenario: str | None,
    lifted: bool,
) -> None:
    """Under `simulate --scenario tenure_relation` the expectations are lifted, said so."""
    if scenario is None:
        monkeypatch.delenv("LIFECYCLE_SIMULATED_SCENARIO", raising=False)
    else:
        monkeypatch.setenv("LIFECYCLE_SIMULATED_SCENARIO", scenario)
    params = parse_params(repo_params_mapping)

    def rises(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(frame["tenure"].astype(float) / 200.0)

    checks = {c.name: c for c in directional(_rows(params), params, rises)}
    assert checks["tenure"].passed is lifted  # the scores rise with tenure: failed unless lifted
    for check in checks.values():
        assert check.detail.startswith("lifted: the simulated scenario 'tenure_relation'") is lifted
