"""What the ledger stores: one entry per run of anything that costs money, as a plain dataclass."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lifecycle.config import Params, ResourceRequest
from lifecycle.ledger.pricing import (
    ComputeCost,
    StaffLine,
    Usage,
    price_compute,
    price_sheet_id,
    staff_line,
)
from lifecycle.paths import DEFAULT_USE_CASE

LINK_FIELDS = (
    "prefect_flow_run_id",
    "mlflow_run_id",
    "data_version",
    "model_version",
    "git_commit",
)

PLATFORM_PREFIX = "platform-"  # entry name of a long-running platform process: platform-<what>


def utc_naive(moment: datetime) -> datetime:
    """Store every time as naive UTC so SQLite and PostgreSQL give back the same value."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


@dataclass(frozen=True)
class Rollup:
    """A run's cost together with the runs metered inside it (a parent flow and its subflows)."""

    compute_usd: float
    staff_usd: float
    total_usd: float

    def __add__(self, other: Rollup) -> Rollup:
        """Two costs together."""
        return Rollup(
            self.compute_usd + other.compute_usd,
            self.staff_usd + other.staff_usd,
            self.total_usd + other.total_usd,
        )


@dataclass
class LedgerEntry:
    """One run of anything that costs money, with its usage, links and priced cost."""

    key: str
    kind: str
    name: str
    phase: str
    trigger: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    usage: Usage
    request_cpu_cores: float
    request_memory_gb: float
    request_gpus: float = 0.0
    predictions: int = 0
    links: dict[str, str | None] = field(default_factory=dict)
    staff: tuple[StaffLine, ...] = ()
    cost: ComputeCost = field(default_factory=lambda: ComputeCost(0.0, 0.0, 0.0, 0.0))
    price_sheet: str = ""
    host: str = ""
    pid: int = 0
    error: str | None = None
    note: str | None = None
    parent_key: str | None = None  # the run this one was metered inside (its parent flow)
    use_case: str = DEFAULT_USE_CASE  # the use case it ran for (portfolio views group by it)

    @property
    def staff_usd(self) -> float:
        """Human work charged on this entry."""
        return sum(line.usd for line in self.staff)

    @property
    def compute_usd(self) -> float:
        """Machines and disks for this entry."""
        return self.cost.compute_usd

    @property
    def total_usd(self) -> float:
        """Everything this entry cost."""
        return self.compute_usd + self.staff_usd

    def reprice(self, params: Params) -> LedgerEntry:
        """The same usage and hours under params' prices and rates."""
        request = ResourceRequest(
            cpu_cores=self.request_cpu_cores,
            memory_gb=self.request_memory_gb,
            gpus=self.request_gpus,
        )
        staff = tuple(
            staff_line(s.activity, params.staffing, hours=s.hours, role=s.role) for s in self.staff
        )
        return dataclasses.replace(
            self,
            cost=price_compute(self.usage, request, params.prices),
            staff=staff,
            price_sheet=price_sheet_id(params),
        )

    def tags(self, rollup: Rollup | None = None) -> dict[str, str]:
        """The cost tags set on the Prefect and MLflow runs this entry links to.

        With a rollup (a parent run), cost.* is the whole cost, children included, and
        cost.own_* this entry's own part, so the run's tags agree with its artifact.
        """
        whole = rollup or Rollup(self.compute_usd, self.staff_usd, self.total_usd)
        tags = {
            "cost.compute_usd": f"{whole.compute_usd:.6f}",
            "cost.staff_usd": f"{whole.staff_usd:.2f}",
            "cost.total_usd": f"{whole.total_usd:.6f}",
            "ledger.key": self.key,
        }
        if rollup is not None:
            tags["cost.own_total_usd"] = f"{self.total_usd:.6f}"
        return tags
