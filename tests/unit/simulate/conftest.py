"""Fixtures of the simulation's unit tests: the repository's own params."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.config import Params, load_params

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def params() -> Params:
    """The project's own params.yaml."""
    return load_params(ROOT / "params.yaml")
