"""Fixtures of the core unit tests: the repository's params and the real telco table."""

from __future__ import annotations

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
