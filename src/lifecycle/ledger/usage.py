"""What the OS says a run used: CPU of the process and its children, peak memory, storage growth.

CPU is counted for the whole process tree: the process itself, its waited-for children and the
children still running when the run ends (Dask workers, a server it started), read with psutil.
The first outermost run of a process claims the CPU spent since the process started (interpreter
start, imports); each later outermost run claims what was spent since the previous one ended, so
the ledger's runs add up to the process's own accounting. Two runs metered at once in one process
(threads) each see the other's CPU (a known limit of process-wide counters).
"""

from __future__ import annotations

import os
import resource
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from lifecycle.ledger.pricing import Usage
from lifecycle.paths import Paths
from lifecycle.system import children_cpu_seconds, cpu_seconds


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark so the peak is this run's, not the process's."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def peak_rss_bytes() -> int:
    """The process's peak resident memory since the last reset (VmHWM)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def tree_bytes(root: Path) -> int:
    """Bytes of every file under a folder (0 if it does not exist), without following links."""
    total = 0
    stack = [str(root)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for item in it:
                    if item.is_dir(follow_symlinks=False):
                        stack.append(item.path)
                    elif item.is_file(follow_symlinks=False):
                        total += item.stat(follow_symlinks=False).st_size
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
    return total


def storage_roots(paths: Paths) -> tuple[Path, ...]:
    """Where runs add bytes that cost storage: data/, the DVC cache, MLflow artifacts."""
    return (paths.data, paths.root / ".dvc" / "cache", paths.mlflow_artifacts)


def storage_bytes(roots: tuple[Path, ...]) -> int:
    """Bytes held now under the storage roots."""
    return sum(tree_bytes(r) for r in roots)


def live_children_cpu_seconds() -> float:
    """CPU of this process's descendants still running, with the children they have waited for.

    Detached services (their own session: the Prefect server, the MLflow UI) are left out: they
    are platform entries of their own, not part of the runs they serve.
    """
    total = 0.0
    try:
        kids = psutil.Process().children(recursive=True)
        session = os.getsid(0)
    except (psutil.Error, OSError):
        return 0.0
    for kid in kids:
        try:
            if os.getsid(kid.pid) != session:
                continue
            t = kid.cpu_times()
        except (psutil.Error, OSError):  # it ended between the listing and the read
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


class _TreeCounter:
    """The process tree's CPU so far: own, waited-for children, live descendants; never falls."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.high = 0.0  # a live child seen, then lost unwaited, keeps what it was seen using
        self.claimed_cpu = 0.0
        self.claimed_children = 0.0
        self.claiming = 0  # outermost runs open now

    def children(self) -> float:
        """Children's CPU: waited-for plus still running (monotonic across reads)."""
        value = children_cpu_seconds() + live_children_cpu_seconds()
        with self.lock:
            self.high = max(self.high, value)
            return self.high


TREE = _TreeCounter()


@dataclass
class UsageMeter:
    """The counters at a run's start; `usage()` is what the run used since then."""

    roots: tuple[Path, ...]
    started: float
    cpu0: float
    children_cpu0: float
    children_rss0: int
    storage0: int = 0
    claims: bool = False

    @classmethod
    def start(cls, roots: tuple[Path, ...], *, claim: bool = False) -> UsageMeter:
        """Reset the peak-memory mark and read the counters (storage is read by `mark_storage`).

        claim: an outermost run, which starts from the CPU no earlier run claimed (process start
        for the first), unless another outermost run is open in another thread.
        """
        reset_peak_rss()
        children_rss0 = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        with TREE.lock:
            claims = claim and TREE.claiming == 0
            TREE.claiming += claims
            cpu0, children0 = TREE.claimed_cpu, TREE.claimed_children
        if not claims:
            cpu0, children0 = cpu_seconds(), TREE.children()
        return cls(roots, time.perf_counter(), cpu0, children0, children_rss0, claims=claims)

    def mark_storage(self) -> None:
        """Bytes under the storage roots now: the baseline of the run's storage growth."""
        self.storage0 = storage_bytes(self.roots)

    def usage(self) -> Usage:
        """Wall and CPU seconds (children included), peak memory and storage added since start."""
        wall = time.perf_counter() - self.started
        cpu1, children1 = (cpu_seconds(), TREE.children())
        if self.claims:
            with TREE.lock:
                TREE.claiming -= 1
                TREE.claimed_cpu, TREE.claimed_children = cpu1, children1
            self.claims = False
        children_rss1 = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        peak = peak_rss_bytes()
        if children_rss1 > self.children_rss0:
            peak = max(peak, children_rss1 * 1024)
        return Usage(
            wall_seconds=wall,
            cpu_seconds=(cpu1 - self.cpu0) + (children1 - self.children_cpu0),
            peak_memory_bytes=peak,
            storage_bytes=max(storage_bytes(self.roots) - self.storage0, 0),
        )
