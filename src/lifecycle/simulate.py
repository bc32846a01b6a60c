"""The closed loop, shown: months of traffic through the real service, monitored through Prefect.

Each simulated month: the month's batch (with the scenario applied from
`simulation.drift_from_month` on) goes to POST /predict in chunks, the real outcomes go to
POST /feedback, the month's served rows (customer id, request id, record, features, the score
the service answered, the outcome) become one window file, and the monitor flow checks it.
When the retrain policy says so, the retrain runs one of two ways:

- ``event`` (default): the monitor flow emits the drift event, the retrain deployment's trigger
  starts a flow run, a `process` worker runs it; the loop waits for that run to finish.
- ``inline``: the monitor flow runs the retrain flow as a subflow (no worker, no deployment).

Whatever it needs and finds not running (the local Prefect server, the service on a free
loopback port, the worker) it starts, and stops when done.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from lifecycle.config import Params
from lifecycle.paths import Paths
from lifecycle.system import free_port

if TYPE_CHECKING:
    import httpx
    import pandas as pd

    from lifecycle.orchestration.results import MonitorFlowResult

RetrainMode = Literal["event", "inline"]
NO_SCENARIO = "none"
CHUNK_ROWS = 200
HOST = "127.0.0.1"


class SimulationError(ValueError):
    """An option or a project state the simulation cannot run with, named with what is wrong."""


@dataclass(frozen=True)
class Plan:
    """What to simulate: how many months, which drift from which month, how retrains run."""

    months: int
    scenario: str | None
    drift_from: int
    retrain: RetrainMode

    def scenario_of(self, month: int) -> str | None:
        """The scenario applied to one month (none before drift_from)."""
        return self.scenario if month >= self.drift_from else None


@dataclass(frozen=True)
class MonthResult:
    """One row of the table: what the month's check found and what the loop did about it."""

    month: int
    scenario: str | None
    rows: int
    served_by: str
    verdict: str
    retrained: bool
    promoted: bool
    champion: str | None
    roc_auc: float | None
    profit: float | None
    cost_usd: float
    seconds: float
    window: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class SimulationResult:
    """Every month of one run, and where it ran."""

    plan: Plan
    start_champion: str
    service_url: str
    api_url: str
    months: tuple[MonthResult, ...]

    @property
    def retrains(self) -> int:
        """Months that retrained."""
        return sum(m.retrained for m in self.months)

    @property
    def promotions(self) -> int:
        """Months whose retrain promoted a new champion."""
        return sum(m.promoted for m in self.months)


def make_plan(
    params: Params,
    months: int | None = None,
    scenario: str | None = None,
    drift_from: int | None = None,
    retrain: str = "event",
) -> Plan:
    """Check the options against params: months in range, a known scenario, a known mode."""
    sim = params.simulation
    count = sim.months if months is None else months
    if not 1 <= count <= sim.months:
        raise SimulationError(
            f"--months {count}: must be between 1 and {sim.months} (simulation.months, the "
            "monthly batches ingest writes)"
        )
    name = None if scenario in (None, NO_SCENARIO) else scenario
    if name is not None and name not in sim.scenarios:
        raise SimulationError(
            f"--scenario {scenario!r}: not one of {[NO_SCENARIO, *sorted(sim.scenarios)]} "
            "(simulation.scenarios)"
        )
    start = sim.drift_from_month if drift_from is None else drift_from
    if name is not None and not 1 <= start <= count:
        raise SimulationError(
            f"--drift-from {start}: must be between 1 and --months {count}, or the scenario "
            "never applies"
        )
    if retrain not in ("event", "inline"):
        raise SimulationError(f"--retrain {retrain!r}: must be 'event' or 'inline'")
    mode: RetrainMode = "event" if retrain == "event" else "inline"
    return Plan(count, name, start, mode)


# ---------------------------------------------------------------- the month's traffic


def month_batch(params: Params, paths: Paths, plan: Plan, month: int) -> pd.DataFrame:
    """The month's batch as it arrives, the scenario applied (same seed as `lifecycle monitor`)."""
    import pandas as pd

    from lifecycle.ingest import apply_scenario

    path = paths.batch(month)
    if not path.is_file():
        raise SimulationError(f"month {month}: batch {str(path)!r} does not exist; run ingest")
    frame = pd.read_parquet(path)
    name = plan.scenario_of(month)
    if name is None:
        return frame
    spec = params.simulation.scenarios[name]
    return apply_scenario(frame, spec, params.data, seed=params.simulation.seed + month)


def records(frame: pd.DataFrame, params: Params) -> list[dict[str, Any]]:
    """The feature columns as JSON-ready records (no NaN: null where a value is missing)."""
    import numpy as np

    from lifecycle.features import model_inputs

    x = model_inputs(frame, params.data).astype(object)
    x = x.where(x.notna(), None)
    out = x.to_dict(orient="records")
    return [
        {str(k): (float(v) if isinstance(v, np.floating) else v) for k, v in r.items()} for r in out
    ]


def serve_month(
    client: httpx.Client, params: Params, frame: pd.DataFrame, month: int
) -> pd.DataFrame:
    """POST the month to /predict in chunks, then its outcomes to /feedback; the served rows."""
    import pandas as pd

    data = params.data
    rows = records(frame, params)
    parts = []
    for start in range(0, len(rows), CHUNK_ROWS):
        request_id = f"sim-m{month:02d}-{start // CHUNK_ROWS:03d}"
        chunk = rows[start : start + CHUNK_ROWS]
        answer = _ok(client.post("/predict", json=chunk, headers={"X-Request-ID": request_id}))
        preds = answer["predictions"]
        part = frame.iloc[start : start + len(chunk)].copy()
        part["request_id"] = answer["request_id"]
        part["record"] = [p["record"] for p in preds]
        part["score"] = [p["score"] for p in preds]
        part["model_version"] = [p["model_version"] for p in preds]
        parts.append(part)
    served = pd.concat(parts, ignore_index=True)
    feedback = [
        {"request_id": r, "record": int(i), "outcome": str(o)}
        for r, i, o in zip(served["request_id"], served["record"], served[data.target], strict=True)
    ]
    for start in range(0, len(feedback), CHUNK_ROWS):
        _ok(client.post("/feedback", json=feedback[start : start + CHUNK_ROWS]))
    keep = [data.id_column, "request_id", "record", *data.features, "score", "model_version"]
    return served[[*keep, data.target]]


def _ok(response: httpx.Response) -> Any:
    """The JSON of a 2xx answer, else a clear error with the service's message."""
    if response.status_code >= 300:
        raise SimulationError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text[:500]}"
        )
    return response.json()


def write_window(paths: Paths, plan: Plan, month: int, served: pd.DataFrame) -> Path:
    """The month's served rows as the window the monitor checks (data/simulation/...)."""
    name = plan.scenario_of(month) or NO_SCENARIO
    path = paths.data / "simulation" / f"sim-month_{month:02d}-{name}.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".parquet.tmp")
    served.to_parquet(tmp, index=False)
    tmp.replace(path)
    return path


# ---------------------------------------------------------------- what runs beside the loop


@contextmanager
def prefect_api(paths: Paths) -> Iterator[str]:
    """PREFECT_API_URL's server, a running local one, or one started here and stopped after."""
    from lifecycle.orchestration import server

    started = not os.environ.get("PREFECT_API_URL") and not server.status(paths).healthy
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
def service(paths: Paths, timeout: float = 240.0) -> Iterator[str]:
    """`uvicorn lifecycle.serve.app:app_from_env` on a free loopback port until it is ready."""
    import httpx

    port = free_port()
    url = f"http://{HOST}:{port}"
    log = paths.data / "simulation" / "service.log"
    cmd = [sys.executable, "-m", "uvicorn", "lifecycle.serve.app:app_from_env", "--factory",
           "--host", HOST, "--port", str(port), "--log-level", "warning"]  # fmt: skip
    env = {"LIFECYCLE_HOME": str(paths.root)}
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
    from lifecycle.orchestration.deploy import deploy_one, ensure_pool, specs

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


# ---------------------------------------------------------------- waiting on others


def wait_retrain(deployment_id: str, window: str, since: datetime, timeout: float) -> Any:
    """The retrain run the drift event started for this window, once it is final."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    dep = DeploymentFilter(id=DeploymentFilterId(any_=[UUID(deployment_id)]))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs(deployment_filter=dep)
        mine = [r for r in runs if r.parameters.get("window") == window and r.created
                and r.created >= since]  # fmt: skip
        if mine and mine[0].state is not None and mine[0].state.is_final():
            return mine[0]
        time.sleep(2.0)
    raise SimulationError(
        f"no finished retrain run for window {window!r} within {timeout:.0f} s: is a worker "
        "polling the pool? (see data/simulation/worker.log)"
    )


def wait_serving(client: httpx.Client, version: str | None, timeout: float) -> str:
    """Wait until the service answers with this version (it follows @champion by itself)."""
    deadline = time.monotonic() + timeout
    serving = ""
    while True:
        answer = client.get("/ready")
        serving = str(answer.json().get("model_version", "")) if answer.status_code == 200 else ""
        if version is None or serving == version or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    if version is not None and serving != version:
        raise SimulationError(
            f"the service still serves v{serving or '?'} {timeout:.0f} s after v{version} "
            "became champion (serving.poll_seconds)"
        )
    return serving


def champion_version(params: Params, paths: Paths) -> str | None:
    """The version @champion points at, if any."""
    from lifecycle.registry import CHAMPION, version_by_alias

    found = version_by_alias(paths, params.mlflow.model_name, CHAMPION)
    return None if found is None else str(found.version)


def month_cost(start: datetime, end: datetime) -> float:
    """USD of every ledger entry that started in the month's time window."""
    from lifecycle.ledger.models import utc_naive
    from lifecycle.ledger.queries import iter_entries
    from lifecycle.ledger.tables import tables

    _, entries, _ = tables()
    where = [entries.c.started_at >= utc_naive(start), entries.c.started_at < utc_naive(end)]
    return float(sum(e.total_usd for e in iter_entries(where=where)))


# ---------------------------------------------------------------- the loop


@dataclass(frozen=True)
class Loop:
    """What every month needs: params, paths, the plan, the service and how retrains run."""

    params: Params
    paths: Paths
    plan: Plan
    client: httpx.Client
    deployment_id: str | None
    retrain_timeout: float


def run_month(loop: Loop, month: int) -> MonthResult:
    """Serve the month, send its outcomes, monitor it, wait for a retrain and the swap."""
    params, paths, plan = loop.params, loop.paths, loop.plan
    began, clock = datetime.now(UTC), time.monotonic()
    before = champion_version(params, paths)
    served = serve_month(loop.client, params, month_batch(params, paths, plan, month), month)
    window = write_window(paths, plan, month, served)
    watched = monitor(window, plan)
    retrained = watched.retrained is not None
    if watched.event_emitted and watched.retrain and loop.deployment_id is not None:
        run = wait_retrain(loop.deployment_id, watched.window, began, loop.retrain_timeout)
        if not run.state.is_completed():
            raise SimulationError(
                f"month {month}: the retrain run {run.name} ended {run.state.type.value}: "
                f"{run.state.message}"
            )
        retrained = True
    after = champion_version(params, paths)
    wait_serving(loop.client, after, 3 * params.serving.poll_seconds + 60)
    perf = _performance(watched)
    return MonthResult(
        month=month,
        scenario=plan.scenario_of(month),
        rows=len(served),
        served_by=",".join(sorted({str(v) for v in served["model_version"]})),
        verdict=watched.verdict,
        retrained=retrained,
        promoted=after != before,
        champion=after,
        roc_auc=perf[0],
        profit=perf[1],
        cost_usd=month_cost(began, datetime.now(UTC)),
        seconds=time.monotonic() - clock,
        window=watched.window,
        reasons=watched.reasons,
    )


def monitor(window: Path, plan: Plan) -> MonitorFlowResult:
    """The monitor flow on the month's window, scored by the champion; retrain per the mode."""
    from lifecycle.orchestration.flows_monitor import monitor_flow

    inline = plan.retrain == "inline"
    return monitor_flow(window=str(window), emit=not inline, run_retrain=inline)


def _performance(watched: MonitorFlowResult) -> tuple[float | None, float | None]:
    """ROC AUC and campaign profit of the served scores, from the month's drift report."""
    import json

    raw = json.loads(Path(watched.report).read_text())
    perf = raw.get("performance") or {}
    return perf.get("roc_auc"), perf.get("profit")


def simulate(
    params: Params,
    paths: Paths,
    plan: Plan,
    *,
    service_url: str | None = None,
    retrain_timeout: float = 900.0,
    on_month: Callable[[MonthResult], None] | None = None,
) -> SimulationResult:
    """Run the months through the service and Prefect; start what is missing, stop it after."""
    import httpx

    for month in range(1, plan.months + 1):
        if not paths.batch(month).is_file():
            raise SimulationError(
                f"month {month}: batch {str(paths.batch(month))!r} does not exist; run "
                "`lifecycle ingest` (or `dvc repro`) first"
            )
    start = champion_version(params, paths)
    if start is None:
        raise SimulationError(
            f"no @champion of {params.mlflow.model_name!r} in the registry at {paths.root}: "
            "train one first (`dvc repro` or `lifecycle flow lifecycle`)"
        )
    with ExitStack() as stack:
        api = stack.enter_context(prefect_api(paths))
        url = service_url or stack.enter_context(service(paths))
        client = stack.enter_context(httpx.Client(base_url=url, timeout=120))
        dep = None
        if plan.retrain == "event":
            dep = stack.enter_context(retrain_worker(params, paths, api))
        loop = Loop(params, paths, plan, client, dep, retrain_timeout)
        done = []
        for month in range(1, plan.months + 1):
            row = run_month(loop, month)
            done.append(row)
            if on_month is not None:
                on_month(row)
    return SimulationResult(plan, start, url, api, tuple(done))


# ---------------------------------------------------------------- the table


HEADER = ("month", "scenario", "rows", "served by", "verdict", "retrained", "promoted",
          "champion", "AUC", "profit USD", "cost USD", "seconds")  # fmt: skip


def table_row(m: MonthResult) -> tuple[str, ...]:
    """One month as the table's cells."""
    return (
        str(m.month), m.scenario or "-", str(m.rows), f"v{m.served_by}", m.verdict,
        "yes" if m.retrained else "no", "yes" if m.promoted else "no",
        f"v{m.champion}" if m.champion else "-",
        "-" if m.roc_auc is None else f"{m.roc_auc:.3f}",
        "-" if m.profit is None else f"{m.profit:,.0f}",
        usd(m.cost_usd), f"{m.seconds:.0f}",
    )  # fmt: skip


def usd(amount: float) -> str:
    """Dollars with cents, or to the micro-dollar below a dollar (a short monitor run's compute)."""
    return f"{amount:,.2f}" if amount >= 1 else f"{amount:.6f}"


def render_table(months: Sequence[MonthResult]) -> str:
    """The month-by-month table as aligned plain text."""
    rows = [HEADER, *(table_row(m) for m in months)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
