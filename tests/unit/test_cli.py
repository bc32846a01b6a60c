"""The console script: every command the docs and workflows name exists, and --help is cheap."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lifecycle.cli import app

REPO = Path(__file__).resolve().parents[2]
DOCS = [
    REPO / "README.md",
    REPO / "Makefile",
    REPO / "Dockerfile",
    *sorted((REPO / "docs").glob("*.md")),
    *sorted((REPO / ".github" / "workflows").glob("*.yml")),
]
COMMAND = re.compile(r"\blifecycle ((?:[a-z][a-z-]+)(?: [a-z][a-z-]+)?)")


def _documented() -> set[tuple[str, ...]]:
    """`lifecycle <cmd> [<sub>]` as written in the README, docs, Makefile and workflows."""
    found: set[tuple[str, ...]] = set()
    for path in DOCS:
        for line in path.read_text().splitlines():
            if "uv run lifecycle" in line or "`lifecycle " in line or "run: " in line:
                for match in COMMAND.finditer(line):
                    found.add(tuple(match.group(1).split()))
    return found


def _known() -> dict[str, set[str]]:
    """Top-level command names, and the sub-commands of each group."""
    import typer.main

    root = typer.main.get_command(app)
    names: dict[str, set[str]] = {}
    for name, cmd in root.commands.items():  # type: ignore[attr-defined]
        names[name] = set(getattr(cmd, "commands", {}) or {})
    return names


def test_every_documented_command_exists() -> None:
    known = _known()
    documented = _documented()
    assert documented, "the docs name no command: the pattern is wrong"

    def exists(words: tuple[str, ...]) -> bool:
        subs = known.get(words[0])
        if subs is None:
            return False
        return not subs or len(words) == 1 or words[1] in subs

    missing = [" ".join(words) for words in documented if not exists(words)]
    assert not missing, f"documented but not a command: {sorted(missing)}"


@pytest.mark.parametrize(
    "command",
    [
        ["server", "--help"],
        ["serve", "--help"],
        ["score", "--help"],
        ["ci", "--help"],
        ["flow", "--help"],
        ["approve", "--help"],
        ["ledger", "--help"],
        ["monitor", "--help"],
        ["simulate", "--help"],
    ],
)
def test_sub_commands_answer_help(command: list[str]) -> None:
    done = CliRunner().invoke(app, command)
    assert done.exit_code == 0, done.output
    assert "Usage" in done.output


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys; from lifecycle.cli import app; "
        "heavy = [m for m in ('mlflow', 'prefect', 'sklearn', 'great_expectations', 'dvc',"
        " 'pandas', 'fastapi') if m in sys.modules]; print(','.join(heavy))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert done.stdout.strip() == ""


def test_flow_and_run_offer_json_and_quiet() -> None:
    flow = CliRunner().invoke(app, ["flow", "--help"], env={"COLUMNS": "200"})
    assert "--json" in flow.output and "--quiet" in flow.output
    run = CliRunner().invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert "--quiet" in run.output
    simulate = CliRunner().invoke(app, ["simulate", "--help"], env={"COLUMNS": "200"})
    assert "--quiet" in simulate.output
    ui = CliRunner().invoke(app, ["ui", "--help"], env={"COLUMNS": "200"})
    assert ui.exit_code == 0 and "--port" in ui.output


def test_make_ui_takes_its_port_from_the_environment() -> None:
    done = subprocess.run(
        ["make", "-n", "ui"], capture_output=True, text=True, check=True, cwd=REPO,
        env={**os.environ, "MLFLOW_UI_PORT": "5123"},
    )  # fmt: skip
    assert "--port 5123" in done.stdout and "--host 127.0.0.1" in done.stdout


def test_the_run_prints_the_ports_in_use(monkeypatch: pytest.MonkeyPatch) -> None:
    from lifecycle.commands.flows import ui_lines

    monkeypatch.setenv("MLFLOW_UI_URL", "http://127.0.0.1:5123")
    monkeypatch.setenv("LIFECYCLE_PORT", "8123")
    text = "\n".join(ui_lines("http://127.0.0.1:4300/runs/flow-run/x"))
    assert "http://127.0.0.1:4300/runs/flow-run/x" in text
    assert "http://127.0.0.1:5123" in text and "MLFLOW_UI_PORT=5123 make ui" in text
    assert "--port 5123" in text and "http://127.0.0.1:8123" in text
    assert ":5000" not in text and ":8000" not in text
