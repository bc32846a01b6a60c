"""The months: serve each one, monitor it, wait for the retrain and the swap it starts."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from secrets import token_urlsafe
from typing import TYPE_CHECKING, Any

from lifecycle.config import Params
from lifecycle.ledger.models import utc_naive
from lifecycle.ledger.queries import iter_entries
from lifecycle.ledger.tables import tables
from lifecycle.orchestration import progress
from lifecycle.orchestration.results import MonitorFlowResult
from lifecycle.paths import Paths
from lifecycle.privacy import mask_frame
from lifecycle.registry import CHAMPION, version_by_alias
from lifecycle.settings import get_settings
from lifecycle.simulate.plan import Plan, SimulationError
from lifecycle.simulate.results import MonthResult, SimulationResult
from lifecycle.simulate.services import prefect_api, retrain_worker, service
from lifecycle.simulate.traffic import month_batch, serve_month, write_window
from lifecycle.simulate.value_months import ValueBook

if TYPE_CHECKING:
    import httpx

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
    found = version_by_alias(paths, params.mlflow.model_name, CHAMPION)
    return None if found is None else str(found.version)


def month_cost(start: datetime, end: datetime) -> float:
    """USD of every ledger entry that started in the month's time window."""
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
    bar = progress.current()
    before = champion_version(params, paths)
    bar.show(f"month {month}/{plan.months}: serving")
    served = serve_month(loop.client, params, month_batch(params, paths, plan, month), month)
    window = write_window(paths, plan, month, mask_frame(params, paths.root, served))
    bar.show(f"month {month}/{plan.months}: monitoring")
    watched = monitor(window, plan)
    retrained = watched.retrained is not None
    if watched.event_emitted and watched.retrain and loop.deployment_id is not None:
        bar.show(f"month {month}/{plan.months}: retraining ({watched.verdict})")
        run = wait_retrain(loop.deployment_id, watched.window, began, loop.retrain_timeout)
        if not run.state.is_completed():
            raise SimulationError(
                f"month {month}: the retrain run {run.name} ended {run.state.type.value}: "
                f"{run.state.message}"
            )
        retrained = True
    after = champion_version(params, paths)
    if after != before:
        bar.show(f"month {month}/{plan.months}: waiting for the service to serve v{after}")
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
    from lifecycle.orchestration.flows_monitor import monitor_flow  # imports prefect

    inline = plan.retrain == "inline"
    with progress.follow_flows(progress.current(), prefix=f"{window.stem}: "):
        return monitor_flow(window=str(window), emit=not inline, run_retrain=inline)


def _performance(watched: MonitorFlowResult) -> tuple[float | None, float | None]:
    """ROC AUC and campaign profit of the served scores, from the month's drift report."""
    raw = json.loads(Path(watched.report).read_text())
    perf = raw.get("performance") or {}
    return perf.get("roc_auc"), perf.get("profit")


@contextmanager
def scenario_env(scenario: str | None) -> Iterator[None]:
    """LIFECYCLE_SIMULATED_SCENARIO for this process and the ones it starts, restored after."""
    key, before = "LIFECYCLE_SIMULATED_SCENARIO", os.environ.get("LIFECYCLE_SIMULATED_SCENARIO")
    if scenario and scenario != "none":
        os.environ[key] = scenario
    else:
        os.environ.pop(key, None)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = before


def simulate(
    params: Params,
    paths: Paths,
    plan: Plan,
    *,
    service_url: str | None = None,
    retrain_timeout: float = 900.0,
    on_month: Callable[[MonthResult], None] | None = None,
    quiet: bool = False,
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
        stack.enter_context(scenario_env(plan.scenario))  # the inline retrain and the worker
        bar = stack.enter_context(progress.steps("starting", total=plan.months, quiet=quiet))
        bar.show("starting the Prefect server and the service")
        api = stack.enter_context(prefect_api(paths))
        s = get_settings()  # outcomes need a role: the configured token, else one for our service
        token = s.outcomes_token or s.admin_token or ("" if service_url else token_urlsafe(24))
        url = service_url or stack.enter_context(service(paths, outcomes_token=token))
        auth = {"Authorization": f"Bearer {token}"} if token else None
        client = stack.enter_context(httpx.Client(base_url=url, timeout=120, headers=auth))
        dep = None
        if plan.retrain == "event":
            dep = stack.enter_context(retrain_worker(params, paths, api))
        loop = Loop(params, paths, plan, client, dep, retrain_timeout)
        done: list[MonthResult] = []
        book = ValueBook(params, paths)
        for month in range(1, plan.months + 1):
            done = book.after_month([*done, run_month(loop, month)])
            row = done[-1]
            bar.advance(f"month {month}/{plan.months} done ({row.verdict})")
            if on_month is not None:
                on_month(row)
    return SimulationResult(plan, start, url, api, tuple(done))
