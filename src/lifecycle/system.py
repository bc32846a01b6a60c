"""What the operating system tells about this process and machine: CPU time, free ports."""

from __future__ import annotations

import os
import resource
import socket

LOOPBACK = "127.0.0.1"


def cpu_seconds() -> float:
    """CPU seconds (user + system) this process has used so far."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def children_cpu_seconds() -> float:
    """CPU seconds of this process's children that have been waited for."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def free_port(host: str = LOOPBACK) -> int:
    """A port nobody listens on right now (for a server this process is about to start)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
