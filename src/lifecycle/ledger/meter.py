"""Meter a block as one ledger entry: its usage, links and staffing, priced when it ends.

`metered` writes a 'running' entry when the run starts, so a process killed mid-run leaves a
row that `reconcile_crashed` later marks as crashed, then replaces it with the measured,
priced entry on exit (failed runs included) in one transaction.

A run metered inside another (a subflow in its parent flow) is linked to it by `parent_key`;
the parent's row holds its own overhead only (what it measured less its children's usage), so
summing rows counts every CPU-second once, and `MeteredRun.rollup` is the parent's cost with
its children's, for the surfaces that show a flow's whole cost (tags, artifacts).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from lifecycle.config import Params, load_params
from lifecycle.ledger.models import LINK_FIELDS, LedgerEntry, Rollup
from lifecycle.ledger.pricing import (
    KINDS,
    TRIGGERS,
    LedgerError,
    StaffLine,
    Usage,
    check_choice,
    phases,
    price_compute,
    price_sheet_id,
    staff_line,
)
from lifecycle.ledger.queries import write_entry
from lifecycle.ledger.tags import current_prefect_flow_run_id, tag_runs
from lifecycle.ledger.usage import UsageMeter, storage_roots
from lifecycle.paths import Paths
from lifecycle.versioning import git_commit

log = logging.getLogger(__name__)

# the run metered around the current code, if any: a run opened inside it is its child
_OPEN: ContextVar[MeteredRun | None] = ContextVar("lifecycle_ledger_open_run", default=None)


@cache
def _hostname() -> str:
    """This machine's name, looked up once."""
    return socket.gethostname()


def own_part(measured: Usage, children: Usage) -> Usage:
    """What a run used itself: its measured usage less its children's (never below zero)."""
    return Usage(
        wall_seconds=max(measured.wall_seconds - children.wall_seconds, 0.0),
        cpu_seconds=max(measured.cpu_seconds - children.cpu_seconds, 0.0),
        peak_memory_bytes=measured.peak_memory_bytes,
        gpu_seconds=max(measured.gpu_seconds - children.gpu_seconds, 0.0),
        storage_bytes=max(measured.storage_bytes - children.storage_bytes, 0),
    )


def add_usage(a: Usage, b: Usage) -> Usage:
    """Two runs' usage together (peak memory: the larger)."""
    return Usage(
        wall_seconds=a.wall_seconds + b.wall_seconds,
        cpu_seconds=a.cpu_seconds + b.cpu_seconds,
        peak_memory_bytes=max(a.peak_memory_bytes, b.peak_memory_bytes),
        gpu_seconds=a.gpu_seconds + b.gpu_seconds,
        storage_bytes=a.storage_bytes + b.storage_bytes,
    )


@dataclass
class MeteredRun:
    """The handle a metered block gets: add links, charge activities; holds the entry after."""

    key: str
    kind: str
    name: str
    phase: str
    trigger: str
    params: Params
    links: dict[str, str | None] = field(default_factory=dict)
    staff: list[StaffLine] = field(default_factory=list)
    predictions: int = 0
    note: str | None = None
    entry: LedgerEntry | None = None
    parent_key: str | None = None
    child_runs: int = 0
    children: Usage = field(default_factory=lambda: Usage(0.0, 0.0, 0))
    children_cost: Rollup = field(default_factory=lambda: Rollup(0.0, 0.0, 0.0))
    use_case: str = field(default_factory=lambda: Paths.from_env().use_case_name)

    @property
    def rollup(self) -> Rollup:
        """This run's cost with its children's (its own entry holds its own part only)."""
        own = self.entry
        c = self.children_cost
        if own is None:
            return c
        return c + Rollup(own.compute_usd, own.staff_usd, own.total_usd)

    def link(self, **links: str | int | None) -> None:
        """Attach ids (MLflow run, model version, data version...) during the run."""
        for name, value in links.items():
            if name not in LINK_FIELDS:
                raise LedgerError(f"link {name!r}: must be one of {list(LINK_FIELDS)}")
            self.links[name] = None if value is None else str(value)

    def charge(self, activity: str, *, hours: float | None = None, role: str | None = None) -> None:
        """Charge a staffing activity from params on this run (written with it, atomically)."""
        self.staff.append(staff_line(activity, self.params.staffing, hours=hours, role=role))


def check_run(kind: str, phase: str, trigger: str) -> None:
    """Refuse unknown kinds, phases and triggers with the allowed values."""
    check_choice("kind", kind, KINDS)
    check_choice("phase", phase, phases())
    check_choice("trigger", trigger, TRIGGERS)


def build_entry(
    run: MeteredRun,
    *,
    status: str,
    started_at: datetime,
    ended_at: datetime | None,
    usage: Usage,
    error: str | None = None,
) -> LedgerEntry:
    """Price a run's usage and staffing with the current params."""
    params = run.params
    request = params.resources.request_for(run.kind, run.name)
    return LedgerEntry(
        key=run.key,
        kind=run.kind,
        name=run.name,
        phase=run.phase,
        trigger=run.trigger,
        status=status,
        started_at=started_at,
        ended_at=ended_at,
        usage=usage,
        request_cpu_cores=request.cpu_cores,
        request_memory_gb=request.memory_gb,
        request_gpus=request.gpus,
        predictions=run.predictions,
        links=dict(run.links),
        staff=tuple(run.staff),
        cost=price_compute(usage, request, params.prices),
        price_sheet=price_sheet_id(params),
        host=_hostname(),
        pid=os.getpid(),
        error=error,
        note=run.note,
        parent_key=run.parent_key,
        use_case=run.use_case,
    )


@contextmanager
def metered(
    kind: str,
    name: str,
    phase: str,
    trigger: str,
    links: dict[str, str | None] | None = None,
    *,
    run_key: str | None = None,
    params: Params | None = None,
    url: str | None = None,
    paths: Paths | None = None,
    measure_storage: bool = True,
    tag: bool = True,
) -> Iterator[MeteredRun]:
    """Meter the block as one ledger entry; an exception is recorded as failed and re-raised."""
    check_run(kind, phase, trigger)
    if params is None:
        params = load_params()
    paths = paths or Paths.from_env()
    parent = _OPEN.get()
    run = MeteredRun(
        key=run_key or f"{kind}:{name}:{uuid.uuid4().hex}",
        kind=kind,
        name=name,
        phase=phase,
        trigger=trigger,
        params=params,
        parent_key=parent.key if parent is not None else None,
        use_case=paths.use_case_name,
    )
    run.link(**(links or {}))
    if "git_commit" not in run.links:
        run.links["git_commit"] = git_commit(paths.root)
    if "prefect_flow_run_id" not in run.links:
        run.links["prefect_flow_run_id"] = current_prefect_flow_run_id()

    # baselines first: the ledger's own work (the start row, a first connection) is the run's;
    # an outermost run also claims the process's CPU no run claimed yet (interpreter start)
    meter = UsageMeter.start(storage_roots(paths) if measure_storage else (), claim=parent is None)
    token = _OPEN.set(run)
    started_at = datetime.now(UTC)
    status, error = "succeeded", None
    try:
        write_entry(
            build_entry(
                run, status="running", started_at=started_at, ended_at=None, usage=Usage(0, 0, 0)
            ),
            url,
        )
        meter.mark_storage()
        yield run
    except Exception as err:
        status, error = "failed", f"{type(err).__name__}: {err}"[:2000]
        raise
    except BaseException as err:
        status, error = "crashed", f"{type(err).__name__}: {err}"[:2000]
        raise
    finally:
        _OPEN.reset(token)
        measured = meter.usage()
        entry = build_entry(
            run,
            status=status,
            started_at=started_at,
            ended_at=datetime.now(UTC),
            usage=own_part(measured, run.children),
            error=error,
        )
        try:
            run.entry = write_entry(entry, url)
        except Exception:
            if status == "succeeded":
                raise
            log.exception("could not write the ledger entry of failed run %s", run.key)
        if parent is not None:
            parent.child_runs += 1
            parent.children = add_usage(parent.children, measured)
            parent.children_cost = parent.children_cost + run.rollup
        if run.entry is not None and tag:
            if run.child_runs:
                tag_runs(run.entry, run.rollup)
            else:
                tag_runs(run.entry)
