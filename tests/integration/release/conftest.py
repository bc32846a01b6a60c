"""A prepared project (ingested, validated, split) copied into each test's own temporary stores."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lifecycle.config import Params, load_params
from lifecycle.config import deep_merge as _merge
from lifecycle.paths import Paths
from tests.support.project import fast_params_raw, write_project


@pytest.fixture(scope="session")
def prepared_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """data/ of a project after ingest, validate and split (done once: GX is slow to start)."""
    from lifecycle.features import split
    from lifecycle.ingest import ingest
    from lifecycle.validate import validate_reference

    root = write_project(tmp_path_factory.mktemp("prepared"), fast_params_raw())
    params, paths = load_params(root / "params.yaml"), Paths(root)
    ingest(params.data, params.simulation, paths)
    validate_reference(params, paths)
    split(params, paths)
    return paths.data


@pytest.fixture
def release_project(project: Path, prepared_data: Path) -> Callable[..., tuple[Params, Paths]]:
    """The project fixture with the prepared data and params changed by section (deep merge)."""

    def make(**sections: dict[str, Any]) -> tuple[Params, Paths]:
        raw = copy.deepcopy(fast_params_raw())
        for name, body in sections.items():
            raw[name] = _merge(raw.get(name, {}), body) if isinstance(body, dict) else body
        write_project(project, raw)
        if not (project / "data").exists():
            shutil.copytree(prepared_data, project / "data")
        return load_params(project / "params.yaml"), Paths(project)

    return make
