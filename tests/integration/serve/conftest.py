"""Fixtures of the serving integration tests: one copy of the trained project, an app per test."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.integration.serve.project import Project, copy_project, environment


@pytest.fixture(scope="session")
def project(serving_template: Project, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A real project with a registered champion: this folder's own copy (its tests add versions
    and a challenger) of the session's trained project."""
    return copy_project(serving_template, tmp_path_factory.mktemp("serve") / "project")


@pytest.fixture
def project_env(project: Project, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The project's variables set for one test."""
    for key, value in project.env.items():
        monkeypatch.setenv(key, value)
    return project


def wait_ready(client: TestClient, seconds: float = 60) -> None:
    """Block until the app has loaded its model."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if client.get("/ready").status_code == 200:
            return
        time.sleep(0.05)
    raise AssertionError(f"not ready after {seconds} s: {client.get('/ready').json()}")


@pytest.fixture
def client(project_env: Project) -> Iterator[TestClient]:
    """A TestClient on a fresh app serving the project's champion, admin token 'secret'."""
    from lifecycle.paths import Paths
    from lifecycle.serve.app import create_app
    from lifecycle.serve.state import ServeSettings

    settings = ServeSettings(project_env.params, Paths(project_env.root), "secret")
    with TestClient(create_app(settings)) as c:
        wait_ready(c)
        yield c


@pytest.fixture
def empty_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, project: Project, empty_mlflow_db: Path
) -> Iterator[TestClient]:
    """A TestClient on an app over an empty registry (no model to load), same params."""
    from lifecycle.paths import Paths
    from lifecycle.serve.app import create_app
    from lifecycle.serve.state import ServeSettings

    shutil.copyfile(empty_mlflow_db, tmp_path / "empty.db")  # made, not migrated, here
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("LIFECYCLE_HOME", str(tmp_path))
    with TestClient(create_app(ServeSettings(project.params, Paths(tmp_path), "s"))) as c:
        yield c


@pytest.fixture
def records(project: Project) -> list[dict[str, object]]:
    """Holdout rows as API records (nulls as None)."""
    import pandas as pd

    frame = pd.read_parquet(Path(project.root) / "data" / "processed" / "holdout.parquet")
    feats = frame[list(project.params.data.features)].astype(object)
    feats = feats.where(feats.notna(), None)
    return [{str(k): v for k, v in r.items()} for r in feats.to_dict("records")]


__all__ = ["environment", "wait_ready"]
