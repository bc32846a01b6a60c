"""Shared fixtures: offline settings for every test; throw-away projects with their own stores."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lifecycle.env import OFFLINE_DEFAULTS
from tests.support.project import fast_params_raw, repo_params_raw, write_project

for _key, _value in OFFLINE_DEFAULTS.items():
    os.environ.setdefault(_key, _value)
os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project (fast params) with its own MLflow store, ledger and data folders."""
    root = write_project(tmp_path / "project", fast_params_raw())
    monkeypatch.setenv("LIFECYCLE_HOME", str(root))
    monkeypatch.setenv("LIFECYCLE_PARAMS", str(root / "params.yaml"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    monkeypatch.setenv("LIFECYCLE_LEDGER_URL", f"sqlite:///{root / 'ledger.db'}")
    return root


@pytest.fixture(scope="session")
def repo_params_mapping() -> dict[str, object]:
    """The repository's params.yaml, parsed once."""
    return repo_params_raw()
