"""Fixtures of the release unit tests: the repository's params, and a way to vary them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from lifecycle.config import Params, parse_params


@pytest.fixture
def make_params(repo_params_mapping: dict[str, Any]) -> Callable[..., Params]:
    """The repository's params with some sections replaced (section -> mapping)."""

    def make(**sections: dict[str, Any]) -> Params:
        raw = copy.deepcopy(repo_params_mapping)
        for name, body in sections.items():
            raw[name] = {**raw.get(name, {}), **body}
        return parse_params(raw)

    return make
