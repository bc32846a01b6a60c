"""A throw-away project root with the real reference period and monthly batches on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.config import Params, load_params
from lifecycle.ingest import read_source, split_arrival
from lifecycle.paths import Paths

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def params() -> Params:
    """The project's own params.yaml."""
    return load_params(ROOT / "params.yaml")


@pytest.fixture
def project(params: Params, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """LIFECYCLE_HOME at a temp root holding data/reference and data/batches from the real table."""
    paths = Paths(tmp_path)
    table = read_source(params.data).rename(columns=params.data.rename)
    reference, months = split_arrival(table, params.simulation)
    paths.reference.parent.mkdir(parents=True)
    reference.to_parquet(paths.reference, index=False)
    paths.batches.mkdir(parents=True)
    for i, month in enumerate(months, start=1):
        month.to_parquet(paths.batch(i), index=False)
    monkeypatch.setenv("LIFECYCLE_HOME", str(tmp_path))
    monkeypatch.setenv("LIFECYCLE_PARAMS", str(ROOT / "params.yaml"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("DO_NOT_TRACK", "true")
    return paths
