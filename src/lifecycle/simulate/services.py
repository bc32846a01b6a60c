"""What runs beside the loop: the Prefect API, the service and a retrain worker, stopped after
and each priced as a platform entry (the kernel's CPU figures, less what their own rows hold)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lifecycle.config import Params
from lifecycle.ledger.platform import Reaped, record_reaped, stop_and_reap
from lifecycle.orchestration import server
from lifecycle.orchestration.deploy import deploy_one, ensure_pool, specs
from lifecycle.paths import Paths
from lifecycle.settings import get_settings
from lifecycle.simulate.plan import SimulationError
from lifecycle.system import free_port

HOST = "127.0.0.1"
log = logging.getLogger(__name__)


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


@dataclass(frozen=True)
class Metering:
    """How a background process is priced when it stops: a platform entry named `what`;
    children_counted: its children write rows of their own (a worker's flow runs);
    serving: its serving periods already hold part of its CPU (the service)."""

    what: str
    children_counted: bool = False
    serving: bool = False


@contextmanager
def background(
    cmd: Sequence[str], log: Path, env: dict[str, str], cwd: Path, meter: Metering | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """A process in its own group, stopped (the whole group) when the block ends; with a
    Metering, recorded as a platform entry from the kernel's figures as it is reaped."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            list(cmd), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **env}, cwd=cwd, start_new_session=True,
        )  # fmt: skip
    try:
        yield proc
    finally:
        reaped = stop_and_reap(proc)
        if reaped is not None and meter is not None:
            _record(meter, reaped)


def _record(meter: Metering, reaped: Reaped) -> None:
    """The platform entry of a stopped process; the ledger never fails the simulation's end."""
    try:
        record_reaped(
            meter.what, reaped, children_counted=meter.children_counted, serving=meter.serving
        )
    except Exception as err:
        log.warning("could not record %s (pid %s) in the ledger: %s", meter.what, reaped.pid, err)


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
    with background(cmd, log, env, paths.root, Metering("service", serving=True)) as proc:
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
    worker_log, meter = paths.data / "simulation" / "worker.log", Metering("worker", True)
    with background(cmd, worker_log, env, paths.root, meter):
        yield deployment_id
