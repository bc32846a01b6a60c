"""Runs a killed process left behind: marked Crashed in Prefect and closed in the ledger.

A `kill -9` (or a power loss) gives a flow no chance to report: its Prefect flow runs stay
RUNNING and its ledger rows `running`. Every flow opens its ledger row at its start with the
process's host, pid and Prefect flow run id, so the next outermost stage that starts (any flow,
`lifecycle run`, a deployment run by a worker) finds the rows of processes that are gone:
the same rule as `lifecycle ledger reconcile` (same host and the pid no longer exists, or
running for longer than a day on any host). It closes them as `crashed` and sets their flow
runs, and the task runs those left RUNNING, to Crashed. Nothing is needed by hand; a failure
here is logged and never stops the run that found it.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime

import psutil
from sqlalchemy import select

from lifecycle.ledger.queries import reconcile_crashed
from lifecycle.ledger.session import get_engine
from lifecycle.ledger.tables import tables

log = logging.getLogger(__name__)
MAX_AGE_HOURS = 24.0
LEFT_BEHIND = ("RUNNING", "PENDING")
MESSAGE = "the process running this flow died (found by lifecycle at the next start)"


@dataclass(frozen=True)
class Reaped:
    """What the clean-up closed: ledger rows and Prefect runs."""

    ledger_rows: int
    flow_runs: tuple[str, ...]
    task_runs: int


def dead_runs(url: str | None = None, max_age_hours: float = MAX_AGE_HOURS) -> list[str]:
    """Prefect flow run ids of the ledger's `running` rows whose process is gone."""
    _, entries, _ = tables()
    cols = entries.c
    host, me = socket.gethostname(), os.getpid()
    now = datetime.now(UTC).replace(tzinfo=None)
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            select(cols.host, cols.pid, cols.started_at, cols.prefect_flow_run_id).where(
                cols.status == "running"
            )
        ).all()
    found = []
    for row_host, pid, started, flow_run_id in rows:
        too_old = (now - started).total_seconds() > max_age_hours * 3600
        gone = row_host == host and pid != me and not psutil.pid_exists(pid)
        if (gone or too_old) and flow_run_id:
            found.append(str(flow_run_id))
    return list(dict.fromkeys(found))


def mark_crashed(flow_run_ids: list[str]) -> tuple[tuple[str, ...], int]:
    """Set the flow runs (and their task runs) still RUNNING or PENDING to Crashed."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        TaskRunFilter,
        TaskRunFilterState,
        TaskRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Crashed

    done: list[str] = []
    tasks = 0
    with get_client(sync_client=True) as client:
        for flow_run_id in flow_run_ids:
            try:
                run = client.read_flow_run(flow_run_id)  # type: ignore[arg-type]
            except ObjectNotFound:  # a run of another Prefect server: not ours to close
                continue
            if run.state is None or run.state.type.value not in LEFT_BEHIND:
                continue
            open_tasks = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])),
                task_run_filter=TaskRunFilter(
                    state=TaskRunFilterState(
                        type=TaskRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING])
                    )
                ),
            )
            for task in open_tasks:
                client.set_task_run_state(task.id, Crashed(message=MESSAGE), force=True)
            tasks += len(open_tasks)
            client.set_flow_run_state(run.id, Crashed(message=MESSAGE), force=True)
            done.append(str(run.id))
    return tuple(done), tasks


def reap_crashed(url: str | None = None) -> Reaped:
    """Close what dead processes left running: ledger rows as crashed, Prefect runs as Crashed."""
    flow_run_ids = dead_runs(url)
    rows = reconcile_crashed(url, max_age_hours=MAX_AGE_HOURS)
    flows, tasks = mark_crashed(flow_run_ids) if flow_run_ids else ((), 0)
    if rows or flows:
        log.warning(
            "closed what killed runs left behind: %d ledger row(s) crashed, %d flow run(s) and "
            "%d task run(s) set to Crashed", rows, len(flows), tasks
        )  # fmt: skip
    return Reaped(rows, flows, tasks)


def reap_quietly(url: str | None = None) -> Reaped | None:
    """reap_crashed for a run that is starting: a failure is logged, never raised."""
    try:
        return reap_crashed(url)
    except Exception as err:  # the clean-up must never stop the run that found the leftovers
        log.warning("could not close the runs killed processes left behind: %s", err)
        return None
