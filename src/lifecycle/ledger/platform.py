"""Platform processes the project starts and stops (the service, a worker, the MLflow UI): stop
one (or run one in the foreground), take its CPU from the kernel as it is reaped, and record
what no other ledger row holds.

A process reaped with `wait4` hands back its whole CPU (its own and its waited-for children's),
so nothing it did after a last psutil read is lost. What other rows already hold is taken off:
the service's serving periods (its own rows, by pid), and the flow runs a worker starts (their
own rows, as children): `children_counted=True` keeps only the process's own CPU (its children's
read with psutil just before the stop).
"""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from lifecycle.ledger.models import LedgerEntry
from lifecycle.ledger.queries import iter_entries
from lifecycle.ledger.record import record_platform
from lifecycle.ledger.tables import tables
from lifecycle.system import cpu_seconds


@dataclass(frozen=True)
class Reaped:
    """What the kernel said of a process when it was collected."""

    pid: int
    started_at: datetime
    ended_at: datetime
    cpu_seconds: float  # its own and its waited-for children's
    own_cpu_seconds: float  # its own only (children excluded)
    peak_memory_bytes: int
    returncode: int | None


def started_at(pid: int) -> datetime:
    """When the process started (now, if it is already gone)."""
    try:
        return datetime.fromtimestamp(psutil.Process(pid).create_time(), UTC)
    except psutil.Error:
        return datetime.now(UTC)


def _wait4(proc: subprocess.Popen[bytes], timeout: float) -> resource.struct_rusage | None:
    """Collect the process within the timeout: its rusage; None if it still runs."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        except ChildProcessError:  # collected elsewhere already
            return None
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return usage
        if time.monotonic() > deadline:
            return None
        time.sleep(0.05)


def tree_children_cpu(pid: int) -> float:
    """CPU the process's children used so far: waited-for ones and those still running."""
    try:
        proc = psutil.Process(pid)
        t = proc.cpu_times()
        total = t.children_user + t.children_system
        kids = proc.children(recursive=True)
    except psutil.Error:
        return 0.0
    for kid in kids:
        try:
            k = kid.cpu_times()
        except psutil.Error:  # it ended between the listing and the read
            continue
        total += k.user + k.system + k.children_user + k.children_system
    return total


def stop_and_reap(proc: subprocess.Popen[bytes], timeout: float = 40.0) -> Reaped | None:
    """SIGTERM the process group (graceful: a service flushes its log and ledger), KILL after
    the timeout; its CPU from the kernel as it is reaped. None if it was collected elsewhere."""
    if proc.returncode is not None:
        return None
    began, kids = started_at(proc.pid), tree_children_cpu(proc.pid)
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        got = _wait4(proc, wait)
        if got is not None:
            total = got.ru_utime + got.ru_stime
            return Reaped(
                pid=proc.pid,
                started_at=began,
                ended_at=datetime.now(UTC),
                cpu_seconds=total,
                own_cpu_seconds=max(total - kids, 0.0),
                peak_memory_bytes=got.ru_maxrss * 1024,
                returncode=proc.returncode,
            )
        if proc.poll() is not None:  # collected by someone else meanwhile
            return None
    return None


def cpu_in_rows(pid: int, since: datetime, kind: str, url: str | None = None) -> float:
    """CPU seconds the ledger already holds from rows of this kind written by this process."""
    _, entries, _ = tables()
    where = [entries.c.pid == pid, entries.c.kind == kind,
             entries.c.started_at >= since.astimezone(UTC).replace(tzinfo=None)]  # fmt: skip
    return sum(e.usage.cpu_seconds for e in iter_entries(url, where=where))


def platform_cpu(
    reaped: Reaped, *, children_counted: bool, serving: bool, url: str | None = None
) -> float:
    """The CPU of a reaped platform process that no other row holds."""
    cpu = reaped.own_cpu_seconds if children_counted else reaped.cpu_seconds
    if serving:  # the service's own serving periods already hold part of it
        cpu -= cpu_in_rows(reaped.pid, reaped.started_at, "serving", url)
    return max(cpu, 0.0)


def record_reaped(
    what: str,
    reaped: Reaped,
    *,
    children_counted: bool = False,
    serving: bool = False,
    url: str | None = None,
) -> LedgerEntry:
    """Record a stopped platform process as one platform entry."""
    cpu = platform_cpu(reaped, children_counted=children_counted, serving=serving, url=url)
    return record_platform(
        what, reaped.pid, reaped.started_at, reaped.ended_at, cpu, reaped.peak_memory_bytes,
        url=url,
    )  # fmt: skip


def _reap_when_it_ends(proc: subprocess.Popen[bytes], began: datetime) -> Reaped | None:
    """Block until the process ends by itself; its kernel figures (None if collected elsewhere)."""
    try:
        _, status, ru = os.wait4(proc.pid, 0)
    except ChildProcessError:
        return None
    proc.returncode = os.waitstatus_to_exitcode(status)
    total = ru.ru_utime + ru.ru_stime
    return Reaped(proc.pid, began, datetime.now(UTC), total, total, ru.ru_maxrss * 1024,
                  proc.returncode)  # fmt: skip


def _interrupt(signum: int, frame: object) -> None:
    """A SIGTERM handler: stop the foreground wait as Ctrl-C would."""
    raise KeyboardInterrupt


def run_platform(
    what: str, cmd: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> int | None:
    """Run a platform process in the foreground until it ends or Ctrl-C stops it, then record
    it as one platform entry (its CPU and this launcher's own); its exit code."""
    proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, start_new_session=True)
    began = started_at(proc.pid)
    reaped: Reaped | None = None
    # SIGTERM (a supervisor, `timeout`) stops it as Ctrl-C does: never an orphaned UI
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        reaped = _reap_when_it_ends(proc, began)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        if reaped is None:
            reaped = stop_and_reap(proc)
        if reaped is not None:
            cpu = reaped.cpu_seconds + cpu_seconds()  # the launcher's own start-up too
            record_platform(what, proc.pid, began, reaped.ended_at, cpu, reaped.peak_memory_bytes)
    return proc.returncode
