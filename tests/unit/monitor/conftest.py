"""Real telco data, split into a reference period and monthly batches as ingest does."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lifecycle.config import Params, load_params
from lifecycle.ingest import read_source, split_arrival

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def params() -> Params:
    """The project's own params.yaml."""
    return load_params(ROOT / "params.yaml")


@pytest.fixture(scope="session")
def arrival(params: Params) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """The reference period and the monthly batches of the real table."""
    table = read_source(params.data).rename(columns=params.data.rename)
    return split_arrival(table, params.simulation)


@pytest.fixture
def reference(arrival: tuple[pd.DataFrame, list[pd.DataFrame]]) -> pd.DataFrame:
    """The training-period rows (a copy a test may change)."""
    return arrival[0].copy()


@pytest.fixture
def batch(arrival: tuple[pd.DataFrame, list[pd.DataFrame]]) -> pd.DataFrame:
    """The first month as it arrived (a copy a test may change)."""
    return arrival[1][0].copy()
