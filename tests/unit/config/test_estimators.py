"""Candidate hyperparameters: checked at load, naming the key; the declared table is sklearn's."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lifecycle.config import ConfigError, parse_params
from lifecycle.config.estimators import FAMILY_PARAMS, Bound


def _with_params(raw: dict[str, Any], index: int, **params: Any) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    out["train"]["candidates"][index]["params"].update(params)
    return out


@pytest.mark.parametrize(
    ("index", "params", "expected"),
    [
        (0, {"C": -1}, r"candidates\.0\.params\.C = -1: logistic_regression needs a number > 0"),
        (0, {"max_iter": 2.5}, r"params\.max_iter = 2\.5: .*needs an integer >= 0"),
        (1, {"learnin_rate": 0.1}, r"params\.learnin_rate = 0\.1: not a hyperparameter of hist"),
        (1, {"max_bins": 300}, r"params\.max_bins = 300: .*<= 255"),
        (2, {"n_estimators": 0}, r"train\.candidates\.2\.params\.n_estimators = 0: .*>= 1"),
        (2, {"n_estimators": True}, r"params\.n_estimators = True"),
    ],
)
def test_bad_candidate_params_name_the_key(
    repo_params_mapping: dict[str, Any], index: int, params: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected) as caught:
        parse_params(_with_params(repo_params_mapping, index, **params))
    assert len(str(caught.value).splitlines()) == 2  # the file, then one line for the key


def test_negative_promotion_margin_is_refused(repo_params_mapping: dict[str, Any]) -> None:
    raw = copy.deepcopy(repo_params_mapping)
    raw["promotion"]["margin"] = -0.01
    with pytest.raises(ConfigError, match=r"promotion\.margin = -0\.01: .*must be 0 or more"):
        parse_params(raw)
    raw["promotion"]["margin"] = 0.0
    assert parse_params(raw).promotion.margin == 0.0


@pytest.mark.parametrize(
    ("bound", "good", "bad"),
    [
        (Bound(low=0, low_open=True), [1e-9, 3], [0, -1, "1", None, False]),
        (Bound(low=1, integer=True), [1, 10], [0, 1.5, None]),
        (Bound(low=2, high=255, integer=True, nullable=True), [2, 255, None], [1, 256]),
    ],
)
def test_bound_accepts_inside_only(bound: Bound, good: list[Any], bad: list[Any]) -> None:
    assert all(bound.accepts(v) for v in good)
    assert not any(bound.accepts(v) for v in bad)


def _estimators() -> dict[str, Any]:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    return {
        "logistic_regression": LogisticRegression,
        "hist_gradient_boosting": HistGradientBoostingClassifier,
        "random_forest": RandomForestClassifier,
    }


def test_declared_keys_are_the_estimators_own() -> None:
    for family, cls in _estimators().items():
        assert set(FAMILY_PARAMS[family]) == set(cls().get_params()), family


def _sklearn_accepts(cls: Any, key: str, value: Any) -> bool:
    from sklearn.utils._param_validation import (
        InvalidParameterError,
        validate_parameter_constraints,
    )

    try:
        validate_parameter_constraints(
            {key: cls._parameter_constraints[key]}, {key: value}, cls.__name__
        )
    except InvalidParameterError:
        return False
    return True


def _probes(bound: Bound) -> list[Any]:
    """Values at and just past each limit, of the bound's kind."""
    step = 1 if bound.integer else 1e-6
    out: list[Any] = []
    for limit in (bound.low, bound.high):
        if limit is not None:
            base = int(limit) if bound.integer else float(limit)
            out += [base - step, base, base + step]
    return out or [0, 5, -5]


def test_declared_ranges_agree_with_sklearn() -> None:
    for family, cls in _estimators().items():
        for key, bound in FAMILY_PARAMS[family].items():
            if bound is None:
                continue
            for value in _probes(bound):
                ours, theirs = bound.accepts(value), _sklearn_accepts(cls, key, value)
                assert ours == theirs, (family, key, value, ours, theirs)
