"""Measure a run (wall, CPU of the process and its children, peak memory, storage growth).

`metered` writes a 'running' entry when the run starts, so a process killed mid-run leaves a
row that `reconcile_crashed` later marks as crashed, then replaces it with the measured,
priced entry on exit (failed runs included) in one transaction. Known limit: CPU is counted
for the whole process, so two runs metered at once in one process each see the other's CPU.
"""

from __future__ import annotations

import logging
import os
import resource
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

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
from lifecycle.ledger.store import LINK_FIELDS, LedgerEntry, write_entry
from lifecycle.system import children_cpu_seconds, cpu_seconds
from lifecycle.versioning import git_commit

if TYPE_CHECKING:
    from lifecycle.config import Params
    from lifecycle.paths import Paths

log = logging.getLogger(__name__)
_HOST = ""


def _hostname() -> str:
    """This machine's name, looked up once."""
    global _HOST
    _HOST = socket.gethostname()
    return _HOST


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark so the peak is this run's, not the process's."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return False
    return True


def _peak_rss_bytes() -> int:
    """The process's peak resident memory since the last reset (VmHWM)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def tree_bytes(root: Path) -> int:
    """Bytes of every file under a folder (0 if it does not exist), without following links."""
    total = 0
    stack = [str(root)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for item in it:
                    if item.is_dir(follow_symlinks=False):
                        stack.append(item.path)
                    elif item.is_file(follow_symlinks=False):
                        total += item.stat(follow_symlinks=False).st_size
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            continue
    return total


def storage_roots(paths: Paths) -> tuple[Path, ...]:
    """Where runs add bytes that cost storage: data/, the DVC cache, MLflow artifacts."""
    return (paths.data, paths.root / ".dvc" / "cache", paths.mlflow_artifacts)


def _storage_bytes(roots: tuple[Path, ...]) -> int:
    """Bytes held now under the storage roots."""
    return sum(tree_bytes(r) for r in roots)


def _prefect_flow_run_id() -> str | None:
    """The current Prefect flow run's id, only if Prefect is already loaded (never imports it)."""
    if "prefect.runtime" not in sys.modules:
        return None
    try:
        from prefect.runtime import flow_run

        run_id = flow_run.id
    except Exception as err:  # prefect's runtime raises varied errors outside a run
        log.debug("no Prefect flow run in context: %s", err)
        return None
    return str(run_id) if run_id else None


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
    gpu_seconds: float = 0.0
    predictions: int = 0
    note: str | None = None
    entry: LedgerEntry | None = None

    def link(self, **links: str | int | None) -> None:
        """Attach ids (MLflow run, model version, data version...) during the run."""
        for name, value in links.items():
            if name not in LINK_FIELDS:
                raise LedgerError(f"link {name!r}: must be one of {list(LINK_FIELDS)}")
            self.links[name] = None if value is None else str(value)

    def charge(self, activity: str, *, hours: float | None = None, role: str | None = None) -> None:
        """Charge a staffing activity from params on this run (written with it, atomically)."""
        self.staff.append(staff_line(activity, self.params.staffing, hours=hours, role=role))

    def add_gpu_seconds(self, seconds: float) -> None:
        """Add GPU time the work measured itself (there is no portable OS counter for it)."""
        if seconds < 0:
            raise LedgerError(f"gpu_seconds = {seconds}: must be >= 0")
        self.gpu_seconds += seconds


def _validate(kind: str, phase: str, trigger: str) -> None:
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
        host=_HOST or _hostname(),
        pid=os.getpid(),
        error=error,
        note=run.note,
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
    from lifecycle.paths import Paths

    _validate(kind, phase, trigger)
    if params is None:
        from lifecycle.config import load_params

        params = load_params()
    paths = paths or Paths.from_env()
    run = MeteredRun(
        key=run_key or f"{kind}:{name}:{uuid.uuid4().hex}",
        kind=kind,
        name=name,
        phase=phase,
        trigger=trigger,
        params=params,
    )
    run.link(**(links or {}))
    if "git_commit" not in run.links:
        run.links["git_commit"] = git_commit(paths.root)
    if "prefect_flow_run_id" not in run.links:
        run.links["prefect_flow_run_id"] = _prefect_flow_run_id()

    roots = storage_roots(paths) if measure_storage else ()
    # baselines first: the ledger's own work (the start row, a first connection) is the run's
    _reset_peak_rss()
    kids_rss0 = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    cpu0, kids0 = (cpu_seconds(), children_cpu_seconds())
    t0 = time.perf_counter()
    started_at = datetime.now(UTC)
    write_entry(
        build_entry(
            run, status="running", started_at=started_at, ended_at=None, usage=Usage(0, 0, 0)
        ),
        url,
    )
    storage0 = _storage_bytes(roots)
    status, error = "succeeded", None
    try:
        yield run
    except Exception as err:
        status, error = "failed", f"{type(err).__name__}: {err}"[:2000]
        raise
    except BaseException as err:
        status, error = "crashed", f"{type(err).__name__}: {err}"[:2000]
        raise
    finally:
        wall = time.perf_counter() - t0
        cpu1, kids1 = (cpu_seconds(), children_cpu_seconds())
        kids_rss1 = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        peak = _peak_rss_bytes()
        if kids_rss1 > kids_rss0:
            peak = max(peak, kids_rss1 * 1024)
        usage = Usage(
            wall_seconds=wall,
            cpu_seconds=(cpu1 - cpu0) + (kids1 - kids0),
            peak_memory_bytes=peak,
            gpu_seconds=run.gpu_seconds,
            storage_bytes=max(_storage_bytes(roots) - storage0, 0),
        )
        entry = build_entry(
            run,
            status=status,
            started_at=started_at,
            ended_at=datetime.now(UTC),
            usage=usage,
            error=error,
        )
        try:
            run.entry = write_entry(entry, url)
        except Exception:
            if status == "succeeded":
                raise
            log.exception("could not write the ledger entry of failed run %s", run.key)
        if run.entry is not None and tag:
            tag_runs(run.entry)


def tag_runs(entry: LedgerEntry) -> None:
    """Put the cost on the linked MLflow and Prefect runs; best effort, never fails the run."""
    mlflow_id = entry.links.get("mlflow_run_id")
    if mlflow_id:
        try:
            _tag_mlflow(mlflow_id, entry.tags())
        except Exception as err:  # any tracking failure must not fail the priced run
            log.warning("could not tag MLflow run %s with its cost: %s", mlflow_id, err)
    flow_run_id = entry.links.get("prefect_flow_run_id")
    if flow_run_id:
        try:
            _tag_prefect(flow_run_id, entry.tags())
        except Exception as err:  # no Prefect server answering must not fail the priced run
            log.warning("could not tag Prefect flow run %s with its cost: %s", flow_run_id, err)


def _tag_mlflow(run_id: str, tags: dict[str, str]) -> None:
    """Set the cost tags on an MLflow run (tracking URI from the environment)."""
    from mlflow.tracking import MlflowClient

    from lifecycle.paths import Paths

    uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{Paths.from_env().mlflow_db}"
    client = MlflowClient(tracking_uri=uri)
    for key, value in tags.items():
        client.set_tag(run_id, key, value)


def _prefect_api_url() -> str | None:
    """The Prefect API configured by env, profile or settings context (None: no server)."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    from prefect.settings import PREFECT_API_URL

    value = PREFECT_API_URL.value()
    return str(value) if value else None


def _tag_prefect(flow_run_id: str, tags: dict[str, str]) -> None:
    """Add 'cost.*=value' tags to a Prefect flow run, only against a configured server."""
    if not _prefect_api_url():
        log.warning("no Prefect API configured: flow run %s not tagged with its cost", flow_run_id)
        return
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        current = client.read_flow_run(uuid.UUID(flow_run_id))
        kept = [t for t in current.tags if not t.startswith(("cost.", "ledger."))]
        client.update_flow_run(
            uuid.UUID(flow_run_id), tags=kept + [f"{k}={v}" for k, v in tags.items()]
        )


def record_serving_period(
    start: datetime,
    end: datetime,
    predictions: int,
    *,
    name: str = "api",
    phase: str = "deployment",
    trigger: str = "schedule",
    cpu_seconds: float = 0.0,
    peak_memory_bytes: int = 0,
    model_version: str | None = None,
    run_key: str | None = None,
    params: Params | None = None,
    url: str | None = None,
) -> LedgerEntry:
    """Record a period of serving uptime and its prediction count (idempotent per period)."""
    _validate("serving", phase, trigger)
    if end < start:
        raise LedgerError(f"end = {end.isoformat()}: must not be before start {start.isoformat()}")
    if predictions < 0:
        raise LedgerError(f"predictions = {predictions}: must be >= 0")
    if params is None:
        from lifecycle.config import load_params

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
    run.link(model_version=model_version)
    usage = Usage(
        wall_seconds=(end - start).total_seconds(),
        cpu_seconds=cpu_seconds,
        peak_memory_bytes=peak_memory_bytes,
    )
    entry = build_entry(run, status="succeeded", started_at=start, ended_at=end, usage=usage)
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
        from lifecycle.config import load_params

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
