"""Fixtures of the serving end-to-end tests: a trained project and a real uvicorn server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from lifecycle.system import free_port
from tests.integration.serve.project import Project, copy_project

TOKEN = "e2e-admin-token-4d1c"


@pytest.fixture(scope="session")
def project(serving_template: Project, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A real project with a registered champion: this folder's own copy (its tests promote and
    add a challenger) of the session's trained project."""
    return copy_project(serving_template, tmp_path_factory.mktemp("serve-e2e") / "project")


@dataclass
class Server:
    """A running `lifecycle serve` process."""

    url: str
    process: subprocess.Popen[bytes]
    project: Project
    output: Path

    def stop(self) -> str:
        """SIGTERM (graceful: in-flight requests finish, the log flushes); its output."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=60)
        return self.output.read_text(errors="replace")


@pytest.fixture
def server(project: Project) -> Iterator[Server]:
    """`serve()` in a subprocess on 127.0.0.1, host and port from the environment."""
    yield from launch(project)


def launch(
    project: Project, extra: dict[str, str] | None = None, workers: int = 1, ready: float = 90
) -> Iterator[Server]:
    """Start `serve()` with the project's environment (and extra variables); stop it after."""
    port = free_port()
    env = {
        **os.environ,
        **project.env,
        "LIFECYCLE_HOST": "127.0.0.1",
        "LIFECYCLE_PORT": str(port),
        "LIFECYCLE_ADMIN_TOKEN": TOKEN,
        **(extra or {}),
    }
    code = f"from lifecycle.commands.serve import serve; serve(workers={workers})"
    output = project.root / f"server-{port}.log"
    # output to a file, not a pipe: an unread pipe fills up and blocks the server's logging
    with output.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-c", code], env=env, cwd=project.root,
            stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
    srv = Server(f"http://127.0.0.1:{port}", proc, project, output)
    deadline = time.monotonic() + ready
    try:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(f"server exited: {srv.stop()}")
            try:
                if httpx.get(f"{srv.url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError(f"server not ready in {ready:.0f} s")
        yield srv
    finally:
        if proc.poll() is None:
            srv.stop()
