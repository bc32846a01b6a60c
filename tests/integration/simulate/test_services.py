"""What simulate starts beside the loop is priced when it stops: one platform entry each."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lifecycle.ledger.queries import iter_entries
from lifecycle.simulate.services import Metering, background

# a worker-like process: a child that prices itself, then its own work, then it waits
WORKER = (
    "import signal, subprocess, sys, time\n"
    "subprocess.run([sys.executable, '-c', 'sum(i * i for i in range(6_000_000))'], check=True)\n"
    "sum(i * i for i in range(2_000_000))\n"
    "open(sys.argv[1], 'w').write(str(time.process_time()))\n"
    "signal.pause()\n"
)


def test_a_background_process_is_stopped_and_priced_without_its_children(
    project: Path, tmp_path: Path
) -> None:
    """The block's end stops the process group; a platform-worker entry holds its own CPU."""
    import time

    ready = tmp_path / "own-cpu"
    cmd = [sys.executable, "-c", WORKER, str(ready)]
    with background(cmd, tmp_path / "worker.log", {}, tmp_path, Metering("worker", True)) as proc:
        deadline = time.monotonic() + 120
        while not ready.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert ready.exists(), (tmp_path / "worker.log").read_text()
    assert proc.returncode is not None  # stopped and collected
    rows = list(iter_entries())
    assert [(e.kind, e.name) for e in rows] == [("job", "platform-worker")]
    own = float(ready.read_text())  # what it says it used itself (its child excluded)
    assert rows[0].usage.cpu_seconds == pytest.approx(own, rel=0.2, abs=0.1)
    assert rows[0].usage.wall_seconds > 0


def test_without_metering_nothing_is_recorded(project: Path, tmp_path: Path) -> None:
    """A process started without a Metering (a test's helper) writes no ledger row."""
    with background([sys.executable, "-c", "import signal; signal.pause()"],
                    tmp_path / "x.log", {}, tmp_path) as proc:  # fmt: skip
        assert proc.poll() is None
    assert proc.returncode is not None
    assert list(iter_entries()) == []


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
