"""The lifecycle in scale-out mode, set by configuration alone: `dvc repro` against an MLflow
server on PostgreSQL + S3 (moto), the ledger on PostgreSQL, DVC pushing to and pulling from S3.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from lifecycle.paths import Paths
from lifecycle.scaleout import dvc_remote_argvs
from lifecycle.versioning import dvc_md5
from tests.integration.scaleout.conftest import ARTIFACT_BUCKET, DVC_BUCKET, Stack
from tests.support.project import REPO, fast_params_raw, write_project
from tests.support.s3 import BIN, object_keys

pytestmark = pytest.mark.slow
STAGES = ("ingest", "validate", "split", "train", "evaluate")


@dataclass(frozen=True)
class Reproduced:
    """A project whose pipeline ran once in scale-out mode."""

    root: Path
    env: dict[str, str]
    model_name: str
    seconds: float


def run(cmd: list[str], root: Path, env: dict[str, str]) -> str:
    """A command of the project's environment in the project; its stdout (fails on non-zero)."""
    done = subprocess.run(
        [str(BIN / cmd[0]) if (BIN / cmd[0]).exists() else cmd[0], *cmd[1:]],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, f"{cmd} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def reproduced(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reproduced]:
    """A git + DVC project with an S3 remote; `dvc repro` pointed at the stack by env alone."""
    root = write_project(tmp_path_factory.mktemp("scaleout") / "project", fast_params_raw())
    shutil.copy(REPO / "dvc.yaml", root / "dvc.yaml")
    shutil.copytree(REPO / "src" / "lifecycle", root / "src" / "lifecycle")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LIFECYCLE_PARAMS", "MLFLOW_ALLOW_FILE_STORE", "PREFECT_API_URL")
    }
    env.update(stack.scaleout().env())
    env["LIFECYCLE_HOME"] = str(root)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    for argv in (
        ["git", "init", "-q"],
        ["git", "config", "user.email", "ci@example.invalid"],
        ["git", "config", "user.name", "ci"],
        ["dvc", "init", "-q"],
        ["dvc", "config", "core.analytics", "false"],
        *dvc_remote_argvs("store", f"s3://{DVC_BUCKET}/cache", stack.s3_endpoint),
        ["git", "add", "-A"],
        ["git", "commit", "-qm", "init"],
    ):
        run(argv, root, env)
    started = time.perf_counter()
    out = run(["dvc", "repro"], root, env)
    seconds = time.perf_counter() - started
    for stage in STAGES:
        assert f"Running stage '{stage}'" in out, out
    print(f"scale-out dvc repro: {seconds:.1f} s")
    name = yaml.safe_load((root / "params.yaml").read_text())["mlflow"]["model_name"]
    yield Reproduced(root, env, name, seconds)
    from lifecycle.ledger.session import dispose_engines

    dispose_engines()


def _rows(url: str, sql: str) -> list[sa.Row[object]]:
    """All rows of a query on a database (fresh engine, disposed after)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql)).all())
    finally:
        engine.dispose()


def test_runs_and_registry_live_in_postgres(stack: Stack, reproduced: Reproduced) -> None:
    runs = _rows(stack.db("mlflow"), "select run_uuid, status from runs")
    assert runs, "no MLflow run in PostgreSQL"
    assert {r[1] for r in runs} == {"FINISHED"}
    versions = _rows(stack.db("mlflow"), "select name, version, run_id from model_versions")
    assert (reproduced.model_name, 1) in {(r[0], r[1]) for r in versions}
    assert {r[2] for r in versions} <= {r[0] for r in runs}
    # train registers @challenger; whether it also becomes @champion is the promotion policy's call
    aliases = _rows(stack.db("mlflow"), "select name, alias, version from registered_model_aliases")
    assert (reproduced.model_name, "challenger", 1) in {(r[0], r[1], r[2]) for r in aliases}
    # and nothing went to an embedded store
    assert not (reproduced.root / "mlflow.db").exists()
    assert not (reproduced.root / "mlartifacts").exists()


def test_model_artifacts_are_objects_in_the_store(stack: Stack, reproduced: Reproduced) -> None:
    keys = object_keys(stack.s3_endpoint, ARTIFACT_BUCKET)
    models = [k for k in keys if k.endswith("/MLmodel")]
    assert models, f"no MLmodel among {len(keys)} objects: {keys[:20]}"
    assert any(k.endswith(".skops") or k.endswith(".pkl") for k in keys), keys[:40]


def test_ledger_rows_live_in_postgres(stack: Stack, reproduced: Reproduced) -> None:
    rows = _rows(stack.db("ledger"), "select name, status, kind from ledger_entries")
    stage_rows = sorted(r[0] for r in rows if r[2] == "dvc_stage")
    assert stage_rows == sorted(STAGES)
    assert {r[1] for r in rows} == {"succeeded"}
    assert not (reproduced.root / "ledger.db").exists()


def test_dvc_push_pull_round_trips_through_s3(stack: Stack, reproduced: Reproduced) -> None:
    root, env = reproduced.root, reproduced.env
    paths = Paths(root)
    tracked = (paths.snapshot, paths.raw_reference, paths.validated)
    before = {p: dvc_md5(p) for p in tracked}
    run(["dvc", "push"], root, env)
    pushed = object_keys(stack.s3_endpoint, DVC_BUCKET, "cache/")
    assert len(pushed) >= len(tracked)

    shutil.rmtree(root / ".dvc" / "cache")
    shutil.rmtree(paths.raw)
    paths.validated.unlink()
    run(["dvc", "pull"], root, env)
    assert {p: dvc_md5(p) for p in tracked} == before
    assert "up to date" in run(["dvc", "status"], root, env)
