"""Fixtures of the flow tests: one real Prefect server, one project that ran the whole loop."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lifecycle.orchestration.results import LifecycleResult
from tests.integration.flows.support import in_project, make_project, prefect_server, use_api


@dataclass(frozen=True)
class Trained:
    """A project after one run of the lifecycle flow, with drift injected in the month watched."""

    root: Path
    result: LifecycleResult


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `prefect server start`, this process pointed at it for the session."""
    home = tmp_path_factory.mktemp("prefect-server")
    with prefect_server(home) as url, use_api(url, home / ".prefect"):
        yield url


@pytest.fixture(scope="session")
def trained(api: str, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    """The lifecycle flow, end to end, in a fresh project (monitoring a drifted month)."""
    from lifecycle.orchestration.flows_lifecycle import lifecycle_flow

    root = make_project(tmp_path_factory.mktemp("lifecycle") / "project")
    with in_project(root):
        result = lifecycle_flow(month=1, scenario="price_increase")
    return Trained(root, result)
