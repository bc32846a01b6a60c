"""Progress goes to a terminal's stderr only, and never into stdout (JSON, tables)."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
# a command's shape: a bar on stderr while it prints its machine-read output on stdout
SCRIPT = """
import json, sys
from lifecycle.orchestration import progress
with progress.steps("fitting", total=3, quiet=QUIET) as bar:
    for n in range(3):
        bar.advance(f"candidate {n + 1} of 3: logreg")
        print(json.dumps({"n": n}))
        sys.stdout.flush()
    bar.show("SHOWN-ON-THE-BAR")
    print("live" if bar.live else "off")
"""


def _run(quiet: bool, ci: bool) -> tuple[str, str]:
    """The script with stderr on a real pseudo-terminal and stdout on a pipe."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update({"COLUMNS": "120", "TERM": "xterm"})
    if ci:
        env["CI"] = "true"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.replace("QUIET", str(quiet))],
        stdout=subprocess.PIPE, stderr=follower, env=env, cwd=REPO, timeout=60, check=True,
    )  # fmt: skip
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return done.stdout.decode(), b"".join(chunks).decode(errors="replace")


def test_a_terminal_gets_the_bar_on_stderr_and_stdout_stays_clean() -> None:
    out, err = _run(quiet=False, ci=False)
    assert out.splitlines() == ['{"n": 0}', '{"n": 1}', '{"n": 2}', "live"]
    assert "SHOWN-ON-THE-BAR" in err or "candidate 3 of 3" in err
    assert "0:00:0" in err  # the elapsed column


@pytest.mark.parametrize(("quiet", "ci"), [(True, False), (False, True)])
def test_quiet_and_ci_turn_it_off(quiet: bool, ci: bool) -> None:
    out, err = _run(quiet=quiet, ci=ci)
    assert out.splitlines()[-1] == "off"
    assert "candidate" not in err


def test_no_bar_when_stderr_is_not_a_terminal() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.replace("QUIET", "False")],
        capture_output=True, text=True, cwd=REPO, timeout=60, check=True,
        env={k: v for k, v in os.environ.items() if k != "CI"},
    )  # fmt: skip
    assert done.stdout.splitlines()[-1] == "off"
    assert done.stderr == ""


class _Done:
    """A finished future: its result, or the error it raises."""

    def __init__(self, value: object) -> None:
        self.value = value

    def result(self) -> object:
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


def test_candidates_are_counted_k_of_n_on_the_bar() -> None:
    """Each candidate is named "candidate k of N" while its result is awaited; order is kept."""
    from lifecycle.orchestration import progress

    shown: list[str] = []

    class Recorder(progress.Steps):
        def show(self, description: str) -> None:
            shown.append(description)

    progress._current.append(Recorder(None, None))
    try:
        out = progress.candidates([_Done(1), _Done(2)], ["logreg", "forest"])
        with pytest.raises(ValueError, match="C"):
            progress.candidates([_Done(ValueError("C must be > 0"))], ["broken"])
    finally:
        progress._current.pop()
    assert out == [1, 2]
    assert shown[:3] == ["train: candidate 1 of 2 (logreg) fitting",
                         "train: candidate 2 of 2 (forest) fitting",
                         "train: 2 of 2 candidates fitted"]  # fmt: skip
    assert shown[3] == "train: candidate 1 of 1 (broken) fitting"
