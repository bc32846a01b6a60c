"""Fixtures of the end-to-end flow tests: real worker processes (the server is the session's)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def background(cmd: Sequence[str], log: Path, env: dict[str, str], cwd: Path) -> Iterator[int]:
    """A process in its own group, stopped (the whole group) when the block ends; its pid."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(cmd), stdout=out, stderr=subprocess.STDOUT, env={**os.environ, **env},
            cwd=cwd, start_new_session=True,
        )  # fmt: skip
    try:
        yield proc.pid
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
