"""`lifecycle forget` in a real DVC project: the data is rewritten as a new DVC version."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from lifecycle.paths import Paths
from tests.integration.core.dvc_project import make_dvc_project, run

pytestmark = pytest.mark.slow


def test_forget_records_the_rewritten_data_as_a_new_dvc_version(project: Path) -> None:
    """The id leaves raw, validated and processed data; dvc.lock follows; the data stages are
    up to date again (only train, downstream, waits for the next retrain); a rerun is a no-op."""
    root = make_dvc_project(project)
    run(["dvc", "repro", "split"], root)
    paths = Paths(root)
    column = yaml.safe_load((root / "params.yaml").read_text())["data"]["id_column"]
    who = str(pd.read_parquet(paths.validated)[column].iloc[0])
    before = (root / "dvc.lock").read_text()

    done = run(["lifecycle", "forget", who], root)
    assert "rewritten: data/raw/snapshot.parquet" in done.stdout, done.stdout
    assert "new data version recorded in dvc.lock: ingest, validate, split" in done.stdout
    for f in (paths.snapshot, paths.raw_reference, paths.validated):
        assert who not in pd.read_parquet(f)[column].astype(str).tolist(), f
    assert (root / "dvc.lock").read_text() != before
    status = run(["dvc", "status", "split"], root).stdout
    assert "up to date" in status, status

    again = run(["lifecycle", "forget", who], root)
    assert "already erased on" in again.stdout and "rewritten" not in again.stdout
