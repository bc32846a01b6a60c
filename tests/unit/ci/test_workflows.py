"""Every workflow passes actionlint, and each `run:` step is one project command."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.project import REPO
from tests.unit.ci.conftest import BIN, WORKFLOWS

# what a step may run: the Makefile, the project's CLI, DVC through the locked env, the gh CLI
ALLOWED = ("make ", "uv run lifecycle ", "uv run dvc ", "gh pr comment ")
SHELL_CONTROL = re.compile(r"&&|\|\||;|\||`|\$\(|\n")


def steps(path: Path) -> list[dict[str, Any]]:
    """Every step of every job of a workflow."""
    doc = yaml.safe_load(path.read_text())
    return [step for job in doc["jobs"].values() for step in job.get("steps", [])]


def single_command_problem(command: str) -> str | None:
    """Why a run: value is not one project command, or None when it is."""
    line = command.strip()
    if SHELL_CONTROL.search(line):
        return f"shell control or several lines in {line!r}"
    if not line.startswith(ALLOWED):
        return f"{line!r} is not one of the project's commands ({', '.join(ALLOWED)})"
    return None


def test_actionlint_finds_nothing(workflow_files: list[Path]) -> None:
    done = subprocess.run(
        [str(BIN / "actionlint"), "-no-color", *map(str, workflow_files)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_is_not_blind(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - run: echo ${{ github.nope.what }}\n        uses: actions/checkout@v4\n"
    )
    done = subprocess.run([str(BIN / "actionlint"), str(bad)], capture_output=True, text=True)
    assert done.returncode != 0


def test_each_run_step_is_one_project_command(workflow_files: list[Path]) -> None:
    problems = [
        f"{path.name}: {problem}"
        for path in workflow_files
        for step in steps(path)
        if "run" in step and (problem := single_command_problem(step["run"]))
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "command",
    ["echo hi && make test", "make a; make b", "make test\nmake run", "curl x | sh",
     "python -c 'print(1)'", "uv run python script.py", "make $(whoami)"],
)  # fmt: skip
def test_the_command_check_refuses_inline_scripts(command: str) -> None:
    assert single_command_problem(command) is not None


def test_required_workflows_and_triggers(workflow_files: list[Path]) -> None:
    docs = {p.stem: yaml.safe_load(p.read_text()) for p in workflow_files}
    assert {"ci", "train", "deploy"} <= set(docs)
    # PyYAML reads the key `on` as True
    ci_on, train_on, deploy_on = (docs[n][True] for n in ("ci", "train", "deploy"))
    assert {"push", "pull_request"} <= set(ci_on)
    assert {"params.yaml", "data/**", "src/**"} <= set(train_on["pull_request"]["paths"])
    assert {"push", "workflow_dispatch"} <= set(deploy_on) and "tags" in deploy_on["push"]
    runs = [s.get("run", "") for n in ("train", "deploy") for s in steps(WORKFLOWS / f"{n}.yml")]
    for needed in ("dvc repro", "lifecycle ci pr-comment", "gh pr comment", "make image-push",
                   "make deploy-flows", "lifecycle ci smoke"):  # fmt: skip
        assert any(needed in r for r in runs), needed


def test_ci_runs_what_ci_run_runs() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert ".ci/run" in makefile.split("\nci:", 1)[1].split("\n\n", 1)[0]
    assert (REPO / ".ci" / "run").read_text().rstrip().endswith("make test")
    uses = [s.get("uses", "") for s in steps(WORKFLOWS / "ci.yml")]
    assert any(u.startswith("astral-sh/setup-uv") for u in uses)
