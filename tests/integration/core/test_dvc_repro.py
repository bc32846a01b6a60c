"""`dvc repro` end to end in a temporary project, then again as a no-op; push and pull."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from lifecycle.paths import Paths
from lifecycle.registry import CHAMPION, client, require_alias
from lifecycle.versioning import dvc_md5
from tests.integration.core.dvc_project import make_dvc_project, run

pytestmark = pytest.mark.slow
STAGES = ("ingest", "validate", "split", "train", "evaluate")


def test_repro_then_noop_then_push_pull(project: Path) -> None:
    root = make_dvc_project(project)
    started = time.perf_counter()
    first = run(["dvc", "repro"], root)
    elapsed = time.perf_counter() - started
    for stage in STAGES:
        assert f"Running stage '{stage}'" in first.stdout, first.stdout
    print(f"full dvc repro: {elapsed:.1f} s")

    paths = Paths(root)
    name = yaml.safe_load((root / "params.yaml").read_text())["mlflow"]["model_name"]
    champion = require_alias(paths, name, CHAMPION)
    assert str(champion.version) == "1"

    # the data version MLflow records is DVC's own hash of the data the run used
    lock = yaml.safe_load((root / "dvc.lock").read_text())
    validated = lock["stages"]["validate"]["outs"][0]
    assert validated["path"] == "data/validated/dataset.parquet"
    assert validated["md5"] == dvc_md5(paths.validated)
    run_tags = client(paths).get_run(champion.run_id).data.tags
    assert run_tags["data_version"] == validated["md5"]

    # nothing changed: no stage runs and dvc status is clean
    second = run(["dvc", "repro"], root)
    assert "Running stage" not in second.stdout
    assert "up to date" in run(["dvc", "status"], root).stdout

    metrics = json.loads(run(["dvc", "metrics", "show", "--json"], root).stdout)
    shown = json.dumps(metrics)
    assert "roc_auc" in shown and "profit" in shown

    # every stage run is one priced ledger entry
    engine = sa.create_engine(f"sqlite:///{root / 'ledger.db'}")
    with engine.connect() as conn:
        rows = conn.execute(sa.text("select name, status from ledger_entries")).all()
    engine.dispose()
    assert sorted(r[0] for r in rows) == sorted(STAGES)
    assert {r[1] for r in rows} == {"succeeded"}

    # push to the local remote, lose the data and the cache, pull it back identical
    before = {p: dvc_md5(p) for p in (paths.snapshot, paths.raw_reference, paths.validated)}
    run(["dvc", "push"], root)
    shutil.rmtree(root / ".dvc" / "cache")
    shutil.rmtree(paths.raw)
    paths.validated.unlink()
    run(["dvc", "pull"], root)
    assert {p: dvc_md5(p) for p in before} == before
    assert "up to date" in run(["dvc", "status"], root).stdout


def test_failed_validation_stops_repro_and_keeps_the_batch(project: Path) -> None:
    raw = yaml.safe_load((project / "params.yaml").read_text())
    first_range = next(iter(raw["validation"]["ranges"]))
    raw["validation"]["ranges"][first_range] = [1000, 2000]
    (project / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    root = make_dvc_project(project)
    done = run(["dvc", "repro"], root, check=False)
    assert done.returncode != 0
    assert f"column {first_range!r}: between 1000.0 and 2000.0 failed" in done.stderr
    assert "Running stage 'train'" not in done.stdout
    assert (root / "data" / "quarantine" / "reference" / "reference.parquet").is_file()
    assert not (root / "data" / "validated" / "dataset.parquet").exists()
