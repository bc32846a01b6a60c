"""Shared fixtures: offline settings for every test; throw-away projects with their own stores;
the session's one Prefect server and one trained serving project."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from lifecycle.env import OFFLINE_DEFAULTS
from tests.integration.serve.project import Project, build_project
from tests.support.prefect import shared_server
from tests.support.project import fast_params_raw, repo_params_raw, write_project

for _key, _value in OFFLINE_DEFAULTS.items():
    os.environ.setdefault(_key, _value)
os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
# One OpenMP thread for the tests' small fits (scikit-learn's boosting, in this process and in
# every process a test starts): on a 2-core machine shared with other work, OpenMP's spinning
# threads made a 200-iteration HistGradientBoosting fit on 5,600 rows take 88 s instead of 2 s.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def empty_mlflow_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An MLflow SQLite store with its tables made, once: a fresh store runs every schema
    migration (seconds), a copy of this one opens at once."""
    from mlflow.tracking import MlflowClient

    db = tmp_path_factory.mktemp("mlflow-empty") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{db}").search_experiments()
    return db


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_mlflow_db: Path) -> Path:
    """An empty project (fast params) with its own MLflow store, ledger and data folders."""
    root = write_project(tmp_path / "project", fast_params_raw())
    shutil.copyfile(empty_mlflow_db, root / "mlflow.db")
    monkeypatch.setenv("LIFECYCLE_HOME", str(root))
    monkeypatch.setenv("LIFECYCLE_PARAMS", str(root / "params.yaml"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{root / 'mlflow.db'}")
    monkeypatch.setenv("LIFECYCLE_LEDGER_URL", f"sqlite:///{root / 'ledger.db'}")
    return root


@pytest.fixture(scope="session")
def repo_params_mapping() -> dict[str, object]:
    """The repository's params.yaml, parsed once."""
    return repo_params_raw()


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The session's one real `prefect server start`, this process pointed at it until the end.

    Every test that only needs a server shares it (starting one costs 10-30 s); flows, runs and
    deployments are told apart by id, never by being alone on the server."""
    with shared_server(tmp_path_factory.mktemp("prefect-server")) as url:
        yield url


@pytest.fixture(scope="session")
def serving_template(tmp_path_factory: pytest.TempPathFactory, empty_mlflow_db: Path) -> Project:
    """A project trained once per session (a champion, version 1); tests use copies of it."""
    root = tmp_path_factory.mktemp("serving-template") / "project"
    return build_project(root, store=empty_mlflow_db)


PROCESS_WIDE = ("LIFECYCLE_USE_CASE", "LIFECYCLE_SIMULATED_SCENARIO")


@pytest.fixture(autouse=True)
def _process_wide_choices_do_not_leak() -> Iterator[None]:
    """`--use-case` and `simulate` set these for the whole process (os.environ, on purpose: the
    steps and workers they start read them); a CLI call made in-process by one test must not
    leave them to the next (a leaked use case points every later test at use_cases/<name>/)."""
    before = {name: os.environ.get(name) for name in PROCESS_WIDE}
    yield
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
