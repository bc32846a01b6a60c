"""Columns that other sections name must be declared in `data`: caught at load, key named."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lifecycle.config import ConfigError, parse_params


@pytest.mark.parametrize(
    ("section", "key", "value", "message"),
    [
        ("fairness", "sensitive", ["female", "gender"], "fairness.sensitive[1]: 'gender' is not"),
        (
            "orchestration",
            "monitor_scenario",
            "no_such",
            "orchestration.monitor_scenario: 'no_such'",
        ),
        ("data", "cast", {"contract": "text", "colour": "text"}, "data.cast"),
    ],
)
def test_an_undeclared_column_fails_at_load(
    repo_params_mapping: dict[str, Any], section: str, key: str, value: Any, message: str
) -> None:
    raw = copy.deepcopy(repo_params_mapping)
    raw[section][key] = value
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_params(raw)
