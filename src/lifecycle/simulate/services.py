"""What runs beside the loop: the Prefect API, the service and a retrain worker, stopped after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from lifecycle.config import Params
from lifecycle.orchestration import server
from lifecycle.orchestration.deploy import deploy_one, ensure_pool, specs
from lifecycle.paths import Paths
from lifecycle.settings import get_settings
from lifecycle.simulate.plan import SimulationError
from lifecycle.system import free_port

HOST = "127.0.0.1"


@contextmanager
def prefect_api(paths: Paths) -> Iterator[str]:
    """PREFECT_API_URL's server, a running local one, or one started here and stopped after."""
    started = not get_settings().prefect_api_url and not server.status(paths).healthy
    found = server.use_server(paths)
    try:
        yield found.api_url
    finally:
        _drain_prefect()
        if started:
            server.stop(paths)
            os.environ.pop("PREFECT_API_URL", None)


def _drain_prefect() -> None:
    """Send Prefect's queued events and logs before the server they go to may stop."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    EventsWorker.drain_all(timeout=10)
    APILogWorker.drain_all(timeout=10)


@contextmanager
def background(
    cmd: Sequence[str], log: Path, env: dict[str, str], cwd: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """A process in its own group, stopped (the whole group) when the block ends."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(cmd), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **env}, cwd=cwd, start_new_session=True,
        )  # fmt: skip
    try:
        yield proc
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group (graceful: the service flushes its log and ledger), then KILL."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=40)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@contextmanager
def service(paths: Paths, timeout: float = 240.0, outcomes_token: str = "") -> Iterator[str]:
    """`uvicorn lifecycle.serve.app:app_from_env` on a free loopback port until it is ready."""
    import httpx

    port = free_port()
    url = f"http://{HOST}:{port}"
    log = paths.data / "simulation" / "service.log"
    cmd = [sys.executable, "-m", "uvicorn", "lifecycle.serve.app:app_from_env", "--factory",
           "--host", HOST, "--port", str(port), "--log-level", "warning"]  # fmt: skip
    env = {"LIFECYCLE_HOME": str(paths.root)}
    if outcomes_token:  # POST /feedback needs the outcomes role
        env["LIFECYCLE_OUTCOMES_TOKEN"] = outcomes_token
    with background(cmd, log, env, paths.root) as proc:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{url}/ready", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            gone = proc.poll() is not None
            if gone or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
                why = (
                    f"exited with code {proc.returncode}"
                    if gone
                    else f"not ready in {timeout:.0f} s"
                )
                raise SimulationError(f"the service at {url} {why}; {log}:\n{tail}")
            time.sleep(1.0)
        yield url


@contextmanager
def retrain_worker(params: Params, paths: Paths, api_url: str) -> Iterator[str]:
    """The retrain deployment (drift trigger) and a process worker on its pool; the deployment."""
    pool = params.orchestration.work_pool
    ensure_pool(pool)
    spec = next(s for s in specs(params) if s.name == "retrain")
    deployment_id = deploy_one(spec, params, paths)
    prefect = Path(sys.executable).with_name("prefect")
    cmd = [str(prefect), "worker", "start", "--pool", pool, "--type", "process"]
    env = {"PREFECT_API_URL": api_url, "PREFECT_WORKER_QUERY_SECONDS": "2",
           "LIFECYCLE_HOME": str(paths.root)}  # fmt: skip
    with background(cmd, paths.data / "simulation" / "worker.log", env, paths.root):
        yield deployment_id
