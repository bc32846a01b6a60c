"""Fixtures of the closed-loop tests: a real Prefect server and a trained project per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.flows.support import (
    in_project,
    make_project,
    prefect_server,
    small_params,
    use_api,
)


@pytest.fixture(scope="session")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `prefect server start`, this process pointed at it for the session."""
    home = tmp_path_factory.mktemp("prefect-server-simulate")
    with prefect_server(home) as url, use_api(url, home / ".prefect"):
        yield url


@pytest.fixture
def trained(api: str, tmp_path: Path) -> Iterator[Path]:
    """A project with batches and a champion (ingest and train flows), LIFECYCLE_HOME at it."""
    from lifecycle.orchestration.flows_ingest import ingest_flow
    from lifecycle.orchestration.flows_train import train_flow

    raw = small_params()
    raw["orchestration"]["dask_workers"] = 1  # fits in-process: the machine has 2 cores
    raw["serving"]["poll_seconds"] = 2  # the service notices a new champion quickly
    root = make_project(tmp_path / "project", raw)
    with in_project(root):
        ingest_flow()
        assert train_flow().champion_version == "1"
        yield root
