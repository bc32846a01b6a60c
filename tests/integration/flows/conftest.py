"""Fixtures of the flow tests: the session's Prefect server, one project that ran the whole loop."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from lifecycle.orchestration.results import LifecycleResult
from tests.integration.flows.support import in_project, make_project


@dataclass(frozen=True)
class Trained:
    """A project after one run of the lifecycle flow, with drift injected in the month watched."""

    root: Path
    result: LifecycleResult


@pytest.fixture(scope="session")
def api(prefect_api: str) -> str:
    """The session's shared Prefect server (these tests only need one to be there)."""
    return prefect_api


@pytest.fixture(scope="session")
def trained(api: str, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """The lifecycle flow, end to end, in a fresh project (monitoring a drifted month)."""
    from lifecycle.orchestration.flows_lifecycle import lifecycle_flow

    root = make_project(tmp_path_factory.mktemp("lifecycle") / "project")
    with in_project(root):
        result = lifecycle_flow(month=1, scenario="price_increase")
    return Trained(root, result)
