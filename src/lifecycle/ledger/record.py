"""Entries written from figures rather than metered: serving periods, hours of human work, the
environment sync before a run, and the long-running platform processes the project starts (the
Prefect server, the MLflow UI)."""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

import psutil

from lifecycle.config import Params, load_params
from lifecycle.ledger.meter import MeteredRun, build_entry, check_run
from lifecycle.ledger.models import PLATFORM_PREFIX, LedgerEntry
from lifecycle.ledger.pricing import LedgerError, Usage, check_choice, phases, staff_line
from lifecycle.ledger.queries import write_entry
from lifecycle.settings import get_settings


def record_serving_period(
    start: datetime,
    end: datetime,
    predictions: int,
    *,
    name: str = "api",
    phase: str = "deployment",
    trigger: str | None = None,
    cpu_seconds: float = 0.0,
    peak_memory_bytes: int = 0,
    model_version: str | None = None,
    run_key: str | None = None,
    params: Params | None = None,
    url: str | None = None,
    wall_share: float = 1.0,
    use_case: str | None = None,
) -> LedgerEntry:
    """Record a period of serving uptime and its prediction count (idempotent per period).

    trigger: why the service runs; unset, LIFECYCLE_TRIGGER (`lifecycle serve` by hand sets
    manual), else schedule (a deployed service). wall_share: the part of the period's uptime this
    row carries (one service serving several use cases splits it by predictions); use_case:
    the use case served (default: the environment's).
    """
    trigger = trigger or get_settings().trigger or "schedule"
    check_run("serving", phase, trigger)
    if end < start:
        raise LedgerError(f"end = {end.isoformat()}: must not be before start {start.isoformat()}")
    if predictions < 0:
        raise LedgerError(f"predictions = {predictions}: must be >= 0")
    if not 0.0 <= wall_share <= 1.0:
        raise LedgerError(f"wall_share = {wall_share}: must be between 0 and 1")
    if params is None:
        params = load_params()
    start_utc = start if start.tzinfo else start.replace(tzinfo=UTC)
    run = MeteredRun(
        key=run_key or f"serving:{name}:{start_utc.astimezone(UTC).isoformat()}",
        kind="serving",
        name=name,
        phase=phase,
        trigger=trigger,
        params=params,
        predictions=predictions,
    )
    if use_case is not None:
        run.use_case = use_case
    run.link(model_version=model_version)
    usage = Usage(
        wall_seconds=(end - start).total_seconds() * wall_share,
        cpu_seconds=cpu_seconds,
        peak_memory_bytes=peak_memory_bytes,
    )
    entry = build_entry(run, status="succeeded", started_at=start, ended_at=end, usage=usage)
    return write_entry(entry, url)


def record_setup(
    cpu_seconds: float,
    wall_seconds: float,
    *,
    phase: str = "development",
    trigger: str = "manual",
    params: Params | None = None,
    url: str | None = None,
) -> LedgerEntry:
    """Record the environment sync a run needed (`make run`'s `uv sync`), timed by its caller.

    It ran before any Python of ours could meter it, yet it is part of what running costs: a
    first sync compiles every package (about 90 CPU-seconds here), later ones take about 2."""
    if cpu_seconds < 0 or wall_seconds < 0:
        raise LedgerError(f"setup usage = {cpu_seconds}, {wall_seconds}: must be >= 0")
    check_run("job", phase, trigger)
    if params is None:
        params = load_params()
    end = datetime.now(UTC)
    run = MeteredRun(
        key=f"job:environment-sync:{uuid.uuid4().hex}",
        kind="job",
        name="environment-sync",
        phase=phase,
        trigger=trigger,
        params=params,
    )
    usage = Usage(wall_seconds=wall_seconds, cpu_seconds=cpu_seconds, peak_memory_bytes=0)
    start = end - timedelta(seconds=wall_seconds)
    entry = build_entry(run, status="succeeded", started_at=start, ended_at=end, usage=usage)
    return write_entry(entry, url)


def record_platform_process(
    what: str,
    pid: int,
    *,
    phase: str = "development",
    params: Params | None = None,
    url: str | None = None,
) -> LedgerEntry | None:
    """Record a platform process's life so far as one entry (re-recording updates it); None if gone.

    Its CPU is the process's and its descendants' since it started, read with psutil, so a
    server the project leaves running is part of what running the project costs.
    """
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            created = proc.create_time()
            t = proc.cpu_times()
        cpu = t.user + t.system + t.children_user + t.children_system
        peak = proc.memory_info().rss
        for kid in proc.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                k = kid.cpu_times()
                cpu += k.user + k.system + k.children_user + k.children_system
    except psutil.Error:
        return None
    start = datetime.fromtimestamp(created, UTC)
    return record_platform(
        what, pid, start, datetime.now(UTC), cpu, peak, phase=phase, params=params, url=url
    )


def record_platform(
    what: str,
    pid: int,
    started_at: datetime,
    ended_at: datetime,
    cpu_seconds: float,
    peak_memory_bytes: int,
    *,
    phase: str = "development",
    params: Params | None = None,
    url: str | None = None,
) -> LedgerEntry:
    """One platform entry for a process's life (its key: what, pid and start, so re-recording
    the same process updates it)."""
    if params is None:
        params = load_params()
    start = started_at.astimezone(UTC)
    run = MeteredRun(
        key=f"platform:{what}:{pid}:{int(start.timestamp())}",
        kind="job",
        name=f"{PLATFORM_PREFIX}{what}",
        phase=phase,
        trigger="manual",
        params=params,
        note="platform: a long-running process the project started, shared by the runs it served",
    )
    usage = Usage(
        wall_seconds=max((ended_at - start).total_seconds(), 0.0),
        cpu_seconds=cpu_seconds,
        peak_memory_bytes=peak_memory_bytes,
    )
    entry = build_entry(run, status="succeeded", started_at=start, ended_at=ended_at, usage=usage)
    return write_entry(entry, url)


def log_hours(
    role: str,
    hours: float,
    *,
    phase: str,
    activity: str = "work",
    day: datetime | None = None,
    note: str | None = None,
    run_key: str | None = None,
    params: Params | None = None,
    url: str | None = None,
) -> LedgerEntry:
    """Record human work no run sees (exploration, labelling, meetings) as its own entry."""
    check_choice("phase", phase, phases())
    if params is None:
        params = load_params()
    if not hours >= 0:
        raise LedgerError(f"hours = {hours!r}: must be a number >= 0")
    line = staff_line(activity, params.staffing, hours=hours, role=role)
    when = day or datetime.now(UTC)
    run = MeteredRun(
        key=run_key or f"human:{activity}:{uuid.uuid4().hex}",
        kind="human",
        name=activity,
        phase=phase,
        trigger="manual",
        params=params,
        staff=[line],
        note=note,
    )
    zero = Usage(0.0, 0.0, 0)
    entry = build_entry(run, status="succeeded", started_at=when, ended_at=when, usage=zero)
    return write_entry(entry, url)
