"""Fixtures of the unit tests of the core modules: the repository's params, the real table."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from lifecycle.config import Params, parse_params
from lifecycle.ingest import read_source


@pytest.fixture(scope="module")
def params(repo_params_mapping: dict[str, object]) -> Params:
    """The repository's params, validated."""
    return parse_params(repo_params_mapping)


@pytest.fixture(scope="module")
def table(params: Params) -> pd.DataFrame:
    """The whole telco table, columns renamed as params say."""
    return read_source(params.data).rename(columns=params.data.rename)


@pytest.fixture
def make_params(repo_params_mapping: dict[str, Any]) -> Callable[..., Params]:
    """The repository's params with some sections replaced (section -> mapping)."""

    def make(**sections: dict[str, Any]) -> Params:
        raw = copy.deepcopy(repo_params_mapping)
        for name, body in sections.items():
            raw[name] = {**raw.get(name, {}), **body}
        return parse_params(raw)

    return make
