"""One process, several projects: each `client(paths)` points MLflow at that project's own store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lifecycle.paths import Paths
from lifecycle.registry import client, keep_environment, tracking_uri


def test_a_second_project_is_not_pinned_to_the_first_projects_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow exports the URI it is given; read back as the user's, it pinned later projects."""
    import mlflow

    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID"):
        monkeypatch.delenv(name, raising=False)
    first, second = Paths(tmp_path / "a"), Paths(tmp_path / "b")
    client(first)
    client(second)
    assert tracking_uri(second) == f"sqlite:///{second.mlflow_db}"
    assert mlflow.get_tracking_uri() == f"sqlite:///{second.mlflow_db}"
    assert "MLFLOW_TRACKING_URI" not in os.environ


def test_a_store_the_user_chose_wins_over_the_project_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLFLOW_TRACKING_URI set by the user stays the store, and stays set."""
    chosen = f"sqlite:///{tmp_path / 'shared.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", chosen)
    client(Paths(tmp_path / "a"))
    assert tracking_uri(Paths(tmp_path / "b")) == chosen
    assert os.environ["MLFLOW_TRACKING_URI"] == chosen


def test_keep_environment_undoes_writes_and_new_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """A variable set before is restored, one that did not exist is removed."""
    monkeypatch.setenv("LIFECYCLE_TEST_KEPT", "before")
    monkeypatch.delenv("LIFECYCLE_TEST_NEW", raising=False)
    with keep_environment(("LIFECYCLE_TEST_KEPT", "LIFECYCLE_TEST_NEW")):
        os.environ["LIFECYCLE_TEST_KEPT"] = "after"
        os.environ["LIFECYCLE_TEST_NEW"] = "x"
    assert os.environ["LIFECYCLE_TEST_KEPT"] == "before"
    assert "LIFECYCLE_TEST_NEW" not in os.environ
