"""Fixtures of the CI helpers' tests: the workflow files, a small git + DVC project."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.project import REPO

BIN = Path(sys.executable).parent
WORKFLOWS = REPO / ".github" / "workflows"


def sh(root: Path, *cmd: str) -> str:
    """Run a command of the environment in root; its stdout (fails the test on error)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{cmd}: {done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def workflow_files() -> list[Path]:
    """Every workflow of the repository."""
    found = sorted([*WORKFLOWS.glob("*.yml"), *WORKFLOWS.glob("*.yaml")])
    assert found, f"no workflow in {WORKFLOWS}"
    return found


def write_outputs(root: Path, auc: float, c: float) -> None:
    """The files a DVC pipeline would leave: params, one metric, one plot."""
    (root / "params.yaml").write_text(f"train:\n  C: {c}\n")
    (root / "reports").mkdir(exist_ok=True)
    (root / "reports" / "metrics.json").write_text(json.dumps({"roc_auc": auc}))
    points = [{"fpr": 0.0, "tpr": 0.0}, {"fpr": 0.5, "tpr": auc}, {"fpr": 1.0, "tpr": 1.0}]
    (root / "reports" / "roc.json").write_text(json.dumps(points))


@pytest.fixture(scope="session")
def dvc_repo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git + DVC repo: main has roc_auc 0.80 and C 1.0; the workspace has 0.84 and C 0.5
    (made once: `dvc init` and the commits cost seconds; tests get copies)."""
    root = tmp_path_factory.mktemp("dvc-repo") / "repo"
    root.mkdir()
    sh(root, "git", "init", "-q", "-b", "main")
    sh(root, "git", "config", "user.email", "ci@example.invalid")
    sh(root, "git", "config", "user.name", "ci")
    sh(root, "dvc", "init", "-q")
    sh(root, "dvc", "config", "core.analytics", "false")
    (root / "dvc.yaml").write_text(
        "stages:\n  train:\n    cmd: 'true'\n    params: [train.C]\n"
        "    metrics: [reports/metrics.json: {cache: false}]\n"
        "    plots: [reports/roc.json: {cache: false, x: fpr, y: tpr}]\n"
    )
    write_outputs(root, 0.80, 1.0)
    sh(root, "git", "add", "-A")
    sh(root, "git", "commit", "-qm", "main")
    write_outputs(root, 0.84, 0.5)
    return root


@pytest.fixture
def dvc_repo(dvc_repo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own copy of the git + DVC repo, the working directory for the test."""
    root = tmp_path / "repo"
    shutil.copytree(dvc_repo_template, root, symlinks=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return root
