"""Fixtures of the closed-loop tests: the session's Prefect server and a trained project per test,
trained once and copied (each test promotes its own champions)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.flows.support import in_project, make_project
from tests.support.project import fast_params_raw
from tests.support.relocate import copy_tree


@pytest.fixture(scope="module")
def trained_once(prefect_api: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with batches and a champion (ingest and train flows), trained once; its folder
    also holds the project's DVC remote, so copying the folder copies both."""
    from lifecycle.orchestration.flows_ingest import ingest_flow
    from lifecycle.orchestration.flows_train import train_flow

    raw = fast_params_raw()
    raw["orchestration"]["dask_workers"] = 1  # fits in-process: the machine has 2 cores
    raw["serving"]["poll_seconds"] = 2  # the service notices a new champion quickly
    folder = tmp_path_factory.mktemp("simulate-template")
    root = make_project(folder / "project", raw)
    with in_project(root):
        ingest_flow()
        assert train_flow().champion_version == "1"
    return folder


@pytest.fixture
def trained(trained_once: Path, tmp_path: Path) -> Iterator[Path]:
    """This test's own copy of the trained project, LIFECYCLE_HOME at it."""
    root = copy_tree(trained_once, tmp_path / "simulate") / "project"
    with in_project(root):
        yield root
