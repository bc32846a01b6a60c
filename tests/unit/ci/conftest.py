"""Fixtures of the CI helpers' tests: the workflow files, a small git + DVC project."""

from __future__ import annotations

import json
import os
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


@pytest.fixture
def dvc_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git + DVC repo: main has roc_auc 0.80 and C 1.0; the workspace has 0.84 and C 0.5."""
    root = tmp_path / "repo"
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
    monkeypatch.chdir(root)
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    return root
