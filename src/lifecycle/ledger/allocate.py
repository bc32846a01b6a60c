"""Platform cost allocated to the runs it served, pro rata by their wall time in the period.

Platform entries (the Prefect server, a retrain worker, the service's start-up, the MLflow UI)
are shared costs, shown apart; allocating them answers "what does a train cost, its share of
the servers included". Each platform process is shared by the kinds of run it serves:

- prefect-server, worker: the flow and task runs (Prefect drives them);
- service: the serving periods (it is their process);
- any other (the MLflow UI, ...): every machine run (flows, tasks, DVC stages, jobs, serving).

A run's share is the platform's cost times its wall seconds over the wall seconds of all the
runs that platform served in the same entries; each row holds its own part (a parent flow its
overhead), so a wall-second is weighed once. A platform with no run to serve stays unallocated.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from lifecycle.ledger.models import PLATFORM_PREFIX
from lifecycle.ledger.report import Filters
from lifecycle.ledger.session import get_engine
from lifecycle.ledger.tables import tables

MACHINE_KINDS = ("flow", "task", "dvc_stage", "job", "serving")
SERVES: dict[str, tuple[str, ...]] = {
    "prefect-server": ("flow", "task"),
    "worker": ("flow", "task"),
    "service": ("serving",),
}
GROUPS = ("name", "phase", "model_version")


@dataclass(frozen=True)
class Run:
    """What allocation needs of one non-platform row."""

    name: str
    kind: str
    phase: str
    model_version: str | None
    wall_seconds: float


@dataclass
class Allocation:
    """Platform USD shared out: per flow name, phase and model version, and what is left."""

    platform_usd: float = 0.0
    allocated_usd: float = 0.0
    unallocated_usd: float = 0.0
    by_platform: dict[str, float] = field(default_factory=dict)
    by_name: dict[str, float] = field(default_factory=dict)
    by_phase: dict[str, float] = field(default_factory=dict)
    by_model_version: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


def served_kinds(platform_name: str) -> tuple[str, ...]:
    """The kinds of run a platform entry (platform-<what>) serves."""
    return SERVES.get(platform_name.removeprefix(PLATFORM_PREFIX), MACHINE_KINDS)


def share(platform_usd: float, runs: list[Run], kinds: tuple[str, ...]) -> dict[int, float]:
    """Each served run's USD (by index into runs), pro rata by wall time; {} if none served."""
    served = [(i, r.wall_seconds) for i, r in enumerate(runs) if r.kind in kinds]
    wall = sum(w for _, w in served)
    if wall <= 0:
        return {}
    return {i: platform_usd * w / wall for i, w in served if w > 0}


def allocate(platforms: list[tuple[str, float]], runs: list[Run]) -> Allocation:
    """Share each platform entry's USD among the runs it served."""
    out = Allocation()
    groups: dict[str, defaultdict[str, float]] = {g: defaultdict(float) for g in GROUPS}
    for name, usd in platforms:
        out.platform_usd += usd
        key = name.removeprefix(PLATFORM_PREFIX)
        out.by_platform[key] = out.by_platform.get(key, 0.0) + usd
        parts = share(usd, runs, served_kinds(name))
        if not parts:
            out.unallocated_usd += usd
            continue
        for i, part in parts.items():
            run = runs[i]
            groups["name"][run.name] += part
            groups["phase"][run.phase] += part
            if run.model_version is not None:
                groups["model_version"][run.model_version] += part
            out.allocated_usd += part
    out.by_name, out.by_phase = dict(groups["name"]), dict(groups["phase"])
    out.by_model_version = dict(groups["model_version"])
    return out


def allocate_platform(filters: Filters | None = None, url: str | None = None) -> Allocation:
    """The platform entries of the filtered period, shared out among that period's runs."""
    from sqlalchemy import select

    filters = filters or Filters()
    _, t, _ = tables()
    stmt = select(t.c.name, t.c.kind, t.c.phase, t.c.model_version, t.c.wall_seconds,
                  t.c.total_usd).where(*filters.clauses())  # fmt: skip
    platforms: list[tuple[str, float]] = []
    runs: list[Run] = []
    with get_engine(url).connect() as conn:
        for name, kind, phase, version, wall, usd in conn.execute(stmt):
            if str(name).startswith(PLATFORM_PREFIX):
                platforms.append((str(name), float(usd)))
            elif kind in MACHINE_KINDS:
                runs.append(Run(str(name), str(kind), str(phase), version, float(wall)))
    return allocate(platforms, runs)
