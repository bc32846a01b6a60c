"""A real, small trained project for the serving tests: data, MLflow store, a champion."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from lifecycle.config import Params, load_params
from tests.support.prefect import pytest_env
from tests.support.project import fast_params_raw, repo_params_raw
from tests.support.relocate import copy_tree

PARAMS_FILE = Path(__file__).resolve().parents[3] / "params.yaml"


@dataclass(frozen=True)
class Project:
    """A project root with a registered champion (by default version 1, a logistic regression)."""

    root: Path
    params: Params
    run_id: str
    tracking_uri: str
    version: str = "1"

    @property
    def env(self) -> dict[str, str]:
        """The environment a process needs to serve this project."""
        return {
            "LIFECYCLE_HOME": str(self.root),
            "LIFECYCLE_PARAMS": str(self.root / "params.yaml"),
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "LIFECYCLE_LEDGER_URL": f"sqlite:///{self.root / 'ledger.db'}",
        }


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Set variables for a block (session fixtures cannot use monkeypatch)."""
    with pytest_env(**values):
        yield


def build_project(root: Path, candidate: str | None = None, store: Path | None = None) -> Project:
    """Ingest, accept the reference period, split, train one candidate (default: the first,
    the cheapest), promote it; `store`, an empty MLflow database to start from (no migration)."""
    from lifecycle.env import apply_offline_defaults
    from lifecycle.features import split
    from lifecycle.ingest import ingest
    from lifecycle.paths import Paths
    from lifecycle.registry import promote
    from lifecycle.train import train

    apply_offline_defaults()
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(PARAMS_FILE, root / "params.yaml")  # served as is; only training is trimmed
    if store is not None:
        shutil.copyfile(store, root / "mlflow.db")
    raw = repo_params_raw()
    named = [c for c in raw["train"]["candidates"] if c["name"] == candidate]
    fast = root.parent / f"{root.name}-fast-params.yaml"
    fast.write_text(yaml.safe_dump(fast_params_raw(named or raw["train"]["candidates"][:1])))
    params = load_params(fast)
    paths = Paths(root)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    with environment({"LIFECYCLE_HOME": str(root), "MLFLOW_TRACKING_URI": uri}):
        ingest(params.data, params.simulation, paths)
        # the GX gate is tested elsewhere; here the raw reference period is taken as validated
        paths.validated.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(paths.raw_reference, paths.validated)
        split(params, paths)
        result = train(params, paths)
        promote(paths, params.mlflow.model_name, result.version)
    return Project(root, params, result.run_id, uri)


def copy_project(project: Project, root: Path) -> Project:
    """The same trained project in a new folder (a second of copying instead of a training)."""
    copy_tree(project.root, root)
    uri = f"sqlite:///{root / 'mlflow.db'}"
    return Project(root, project.params, project.run_id, uri, project.version)


def derive_project(base: Project, folder: Path, candidate: str, size: dict[str, int]) -> Project:
    """A copy of `base` in folder/project whose champion is another candidate of params.yaml,
    trained small.

    The copy keeps base's data and store (no ingest, split or store migration: the seconds a
    fresh build spends before training); `size` overrides the candidate's params (fewer trees:
    the paths the serving tests check do not depend on how many), one importance repeat."""
    from lifecycle.paths import Paths
    from lifecycle.registry import promote
    from lifecycle.train import train

    root = folder / "project"
    project = copy_project(base, root)
    named = [c for c in repo_params_raw()["train"]["candidates"] if c["name"] == candidate]
    assert named, f"no candidate {candidate!r} in params.yaml"
    raw = fast_params_raw([{**named[0], "params": {**named[0]["params"], **size}}])
    raw["explain"]["n_repeats"] = 1
    fast = root.parent / f"{root.name}-fast-params.yaml"
    fast.write_text(yaml.safe_dump(raw))
    params = load_params(fast)
    paths = Paths(root)
    with environment(project.env):
        result = train(params, paths)
        promote(paths, params.mlflow.model_name, result.version)
    return Project(root, params, result.run_id, project.tracking_uri, result.version)


def register_copy(project: Project) -> str:
    """A new version of the same run's model (a cheap extra version to promote)."""
    import mlflow

    from lifecycle.paths import Paths
    from lifecycle.registry import client

    with environment(project.env):
        client(Paths(project.root))
        mv = mlflow.register_model(
            f"runs:/{project.run_id}/model", project.params.mlflow.model_name
        )
    return str(mv.version)
