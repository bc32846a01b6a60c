"""Platform processes stopped and reaped: the kernel's CPU, less what their own rows hold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lifecycle.ledger.platform import record_reaped, stop_and_reap
from lifecycle.ledger.queries import iter_entries

# a busy process that reports its CPU so far, then waits to be stopped
BUSY = (
    "import signal, sys, time\n"
    "sum(i * i for i in range(3_000_000))\n"
    "print(time.process_time(), flush=True)\n"
    "signal.pause()\n"
)
# a worker: a busy child of its own, waited for, then its own work
WORKER = (
    "import signal, subprocess, sys, time\n"
    "subprocess.run([sys.executable, '-c', 'sum(i * i for i in range(12_000_000))'], check=True)\n"
    "sum(i * i for i in range(1_000_000))\n"
    "print(time.process_time(), flush=True)\n"
    "signal.pause()\n"
)
# a service: writes a serving period of 0.5 CPU-seconds as its own row, then waits
SERVICE = (
    "import signal, time\n"
    "from datetime import UTC, datetime\n"
    "from lifecycle.ledger.record import record_serving_period\n"
    "sum(i * i for i in range(2_000_000))\n"
    "now = datetime.now(UTC)\n"
    "record_serving_period(now, now, 3, cpu_seconds=0.5, trigger='manual')\n"
    "print(time.process_time(), flush=True)\n"
    "signal.pause()\n"
)


def _start(code: str) -> tuple[subprocess.Popen[bytes], float]:
    """The script in its own session, and the CPU it reports before it waits."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True
    )
    assert proc.stdout is not None
    used = float(proc.stdout.readline())
    return proc, used


def test_a_stopped_process_is_priced_for_the_cpu_the_kernel_counts(project_root: Path) -> None:
    """wait4's figure at the reap: what it used, its end included; one platform entry."""
    proc, used = _start(BUSY)
    reaped = stop_and_reap(proc, timeout=20)
    assert reaped is not None and proc.returncode is not None
    assert reaped.cpu_seconds == pytest.approx(used, rel=0.1, abs=0.1)
    entry = record_reaped("thing", reaped)
    assert entry.name == "platform-thing" and entry.kind == "job"
    assert entry.usage.cpu_seconds == pytest.approx(reaped.cpu_seconds)
    assert [e.key for e in iter_entries()] == [entry.key]
    assert stop_and_reap(proc) is None  # already collected: nothing to price twice


def test_a_worker_is_priced_without_the_children_that_price_themselves(
    project_root: Path,
) -> None:
    """children_counted: the flow runs a worker starts write rows of their own."""
    proc, used = _start(WORKER)
    reaped = stop_and_reap(proc, timeout=20)
    assert reaped is not None
    assert reaped.cpu_seconds > used + 0.3  # the child's CPU is in the kernel's figure
    assert reaped.own_cpu_seconds == pytest.approx(used, rel=0.1, abs=0.1)
    entry = record_reaped("worker", reaped, children_counted=True)
    assert entry.usage.cpu_seconds == pytest.approx(reaped.own_cpu_seconds)


def test_a_service_is_priced_for_what_its_serving_rows_do_not_hold(project_root: Path) -> None:
    """serving: its own serving periods (by pid) are taken off; every CPU-second once."""
    proc, used = _start(SERVICE)
    reaped = stop_and_reap(proc, timeout=20)
    assert reaped is not None
    entry = record_reaped("service", reaped, serving=True)
    assert entry.usage.cpu_seconds == pytest.approx(reaped.cpu_seconds - 0.5)
    rows = list(iter_entries())
    assert sorted(e.kind for e in rows) == ["job", "serving"]
    assert sum(e.usage.cpu_seconds for e in rows) == pytest.approx(reaped.cpu_seconds)
    assert reaped.cpu_seconds == pytest.approx(used, rel=0.1, abs=0.15)


@pytest.mark.slow  # the MLflow UI takes seconds to start; no session fixture starts one
def test_the_mlflow_ui_is_priced_for_the_cpu_the_os_counts(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`lifecycle ui` until Ctrl-C: one platform-mlflow-ui entry, within 10% of the kernel's CPU
    for the command's whole process tree (the launcher and the UI)."""
    import os
    import resource
    import signal
    import time

    import httpx

    from lifecycle.system import free_port

    def children() -> float:
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return kids.ru_utime + kids.ru_stime

    # a file store: no SQLite migrations to wait for (minutes on a busy machine)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (project / "mlruns").as_uri())
    port = free_port()
    lifecycle = Path(sys.executable).with_name("lifecycle")
    before = children()
    proc = subprocess.Popen([str(lifecycle), "ui", "--port", str(port)], cwd=project)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    else:
        proc.terminate()  # the launcher stops the UI it started
        proc.wait(timeout=60)
        pytest.fail("the MLflow UI did not answer within 180 s")
    os.kill(proc.pid, signal.SIGINT)  # Ctrl-C
    # the launcher gives the UI 40 s after SIGTERM and 10 s after SIGKILL, then writes the ledger
    # (2-4 s here, also under a load of 5; more room for a starved CI machine)
    assert proc.wait(timeout=120) == 0
    os_seconds = children() - before
    rows = [e for e in iter_entries() if e.name == "platform-mlflow-ui"]
    assert len(rows) == 1 and rows[0].kind == "job" and rows[0].usage.wall_seconds > 0
    assert os_seconds > 1.0
    assert 0.9 <= rows[0].usage.cpu_seconds / os_seconds <= 1.1, (rows[0].usage, os_seconds)
