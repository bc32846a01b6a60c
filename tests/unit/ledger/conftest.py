"""Fixtures of the ledger's unit tests: the project's params."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.config import Params, load_params

PARAMS_FILE = Path(__file__).resolve().parents[3] / "params.yaml"


@pytest.fixture(scope="session")
def params() -> Params:
    """The repository's params.yaml, validated."""
    return load_params(PARAMS_FILE)
