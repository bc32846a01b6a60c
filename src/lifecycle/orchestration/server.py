"""A local Prefect server started once in the background and reused (no prefect import here)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from lifecycle.env import OFFLINE_DEFAULTS
from lifecycle.paths import Paths
from lifecycle.settings import get_settings

log = logging.getLogger(__name__)

DEFAULT_PORT = 4200
HOST = "127.0.0.1"


class ServerError(RuntimeError):
    """The local server could not be started, reached or stopped; the message says where to look."""


@dataclass(frozen=True)
class ServerStatus:
    """Where the server's API is, whether it answers, and the pid this project started (if any)."""

    api_url: str
    healthy: bool
    pid: int | None
    managed: bool
    log: Path | None

    @property
    def ui_url(self) -> str:
        """The UI is served at the API URL without /api."""
        return self.api_url.removesuffix("/").removesuffix("/api")


def prefect_home(paths: Paths) -> Path:
    """PREFECT_HOME inside the project, so runs stay out of ~/.prefect."""
    return paths.root / ".prefect"


def _state_file(paths: Paths) -> Path:
    """Pid and port of the server this project started."""
    return prefect_home(paths) / "server.json"


def log_file(paths: Paths) -> Path:
    """The background server's output."""
    return prefect_home(paths) / "server.log"


def default_port() -> int:
    """PREFECT_SERVER_PORT from the environment, else 4200."""
    return get_settings().prefect_server_port


def local_api_url(port: int) -> str:
    """The API URL of a server on this machine."""
    return f"http://{HOST}:{port}/api"


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """True when GET <api>/health answers 200."""
    import httpx

    try:
        return httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _read_state(paths: Paths) -> tuple[int, int] | None:
    """(pid, port) of the server this project started, if its state file is readable."""
    try:
        raw = json.loads(_state_file(paths).read_text())
        return int(raw["pid"]), int(raw["port"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def status(paths: Paths, port: int | None = None) -> ServerStatus:
    """PREFECT_API_URL's server if set, else the project's local server."""
    external = get_settings().prefect_api_url
    if external:
        return ServerStatus(external, healthy(external), None, False, None)
    state = _read_state(paths)
    pid = state[0] if state and psutil.pid_exists(state[0]) else None
    use_port = port if port is not None else (state[1] if state and pid else default_port())
    url = local_api_url(use_port)
    return ServerStatus(url, healthy(url), pid, pid is not None, log_file(paths))


def server_env(paths: Paths, port: int) -> dict[str, str]:
    """The environment of the server process: project PREFECT_HOME, offline, the chosen port."""
    env = {**OFFLINE_DEFAULTS, **os.environ}
    env.pop("PREFECT_API_URL", None)
    env["PREFECT_HOME"] = str(prefect_home(paths))
    env["PREFECT_SERVER_API_HOST"] = HOST
    env["PREFECT_SERVER_API_PORT"] = str(port)
    return env


def start(paths: Paths, port: int | None = None, timeout: float = 180.0) -> ServerStatus:
    """Start `prefect server start` in the background, or reuse one that answers."""
    current = status(paths, port)
    if current.healthy:
        return current
    if current.managed:
        raise ServerError(
            f"the project's server (pid {current.pid}) runs but {current.api_url} does not "
            f"answer; see {log_file(paths)} or run `lifecycle server stop`"
        )
    use_port = port if port is not None else default_port()
    home = prefect_home(paths)
    home.mkdir(parents=True, exist_ok=True)
    prefect = Path(sys.executable).with_name("prefect")
    cmd = [str(prefect), "server", "start", "--host", HOST, "--port", str(use_port)]
    with log_file(paths).open("ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=server_env(paths, use_port),
            cwd=paths.root,
            start_new_session=True,
        )
    _state_file(paths).write_text(json.dumps({"pid": proc.pid, "port": use_port}))
    url = local_api_url(use_port)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if healthy(url):
            return ServerStatus(url, True, proc.pid, True, log_file(paths))
        if proc.poll() is not None:
            _state_file(paths).unlink(missing_ok=True)
            raise ServerError(
                f"prefect server exited with code {proc.returncode} before {url} answered; "
                f"see {log_file(paths)}"
            )
        time.sleep(0.5)
    raise ServerError(f"{url}/health did not answer within {timeout:.0f} s; see {log_file(paths)}")


def meter_platform(pid: int | None) -> None:
    """Record the server this project started as a platform cost (its life so far); best effort."""
    if pid is None:
        return
    # lazy: the ledger brings pydantic and sqlalchemy, too slow for `lifecycle --help`
    from lifecycle.ledger.record import record_platform_process

    try:
        record_platform_process("prefect-server", pid)
    except Exception as err:  # the ledger must never stop the server from starting or stopping
        log.warning("could not record the Prefect server (pid %s) in the ledger: %s", pid, err)


def stop(paths: Paths, timeout: float = 20.0) -> bool:
    """Stop the server this project started (its whole process group); False if none ran."""
    state = _read_state(paths)
    _state_file(paths).unlink(missing_ok=True)
    if state is None or not psutil.pid_exists(state[0]):
        return False
    pid = state[0]
    meter_platform(pid)  # its whole life, read before it goes
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid):
            return True
        _reap(pid)
        time.sleep(0.2)
    os.killpg(pid, signal.SIGKILL)
    _reap(pid)
    return True


def _reap(pid: int) -> None:
    """Collect an exited child of this process so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def use_server(paths: Paths, port: int | None = None) -> ServerStatus:
    """Point this process at a server (PREFECT_API_URL's, or the local one, started if needed)."""
    os.environ.setdefault("PREFECT_HOME", str(prefect_home(paths)))
    found = start(paths, port) if not get_settings().prefect_api_url else status(paths)
    if not found.healthy:
        raise ServerError(f"PREFECT_API_URL = {found.api_url} does not answer /health")
    os.environ["PREFECT_API_URL"] = found.api_url
    meter_platform(found.pid if found.managed else None)  # its cost so far, updated each use
    return found
