"""Turn measured usage into money with OpenCost's rule: max(requested, used) x wall time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, get_args

from lifecycle.config import Phase, PriceSheet, ResourceRequest, StaffingParams

KINDS = ("flow", "task", "dvc_stage", "serving", "human", "job")
TRIGGERS = ("schedule", "event", "drift", "manual", "ci")
GB = 1024**3
HOUR = 3600.0


class LedgerError(ValueError):
    """Input the ledger cannot accept, naming the field, the value and the rule."""


def phases() -> tuple[str, ...]:
    """The project phases params know (kept in config so there is one list)."""
    return tuple(get_args(Phase))


V = TypeVar("V")


def str_keys(mapping: Mapping[Any, V]) -> dict[str, V]:
    """A phase-keyed params mapping as a plain str-keyed dict (for lookups by any string)."""
    return {str(k): v for k, v in mapping.items()}


_SHEET_IDS: dict[int, tuple[Any, str]] = {}


def price_sheet_id(params: Any) -> str:
    """A short hash of the prices and rates an entry was priced with (cached per params)."""
    hit = _SHEET_IDS.get(id(params))
    if hit is not None and hit[0] is params:
        return hit[1]
    value = str(params.section_hash("prices", "staffing"))
    if len(_SHEET_IDS) > 64:
        _SHEET_IDS.clear()
    _SHEET_IDS[id(params)] = (params, value)
    return value


def check_choice(field: str, value: str, allowed: tuple[str, ...]) -> str:
    """A clear error when a value is not one of a fixed set."""
    if value not in allowed:
        raise LedgerError(f"{field} = {value!r}: must be one of {list(allowed)}")
    return value


@dataclass(frozen=True)
class Usage:
    """What a run measurably used; never changes when prices do."""

    wall_seconds: float
    cpu_seconds: float
    peak_memory_bytes: int
    gpu_seconds: float = 0.0
    storage_bytes: int = 0


@dataclass(frozen=True)
class ComputeCost:
    """A run's compute and storage cost, split by resource."""

    cpu_usd: float
    ram_usd: float
    gpu_usd: float
    storage_usd: float

    @property
    def compute_usd(self) -> float:
        """Everything a machine and a disk cost for this run."""
        return self.cpu_usd + self.ram_usd + self.gpu_usd + self.storage_usd


@dataclass(frozen=True)
class StaffLine:
    """Hours of one role for one activity, priced at that role's rate."""

    activity: str
    role: str
    hours: float
    rate_usd: float

    @property
    def usd(self) -> float:
        """What those hours cost."""
        return self.hours * self.rate_usd


def price_compute(usage: Usage, request: ResourceRequest, prices: PriceSheet) -> ComputeCost:
    """Allocate each resource as max(requested, used) over the wall time, then price it."""
    hours = max(usage.wall_seconds, 0.0) / HOUR
    used_cores = usage.cpu_seconds / usage.wall_seconds if usage.wall_seconds > 0 else 0.0
    used_gpus = usage.gpu_seconds / usage.wall_seconds if usage.wall_seconds > 0 else 0.0
    cores = max(request.cpu_cores, used_cores)
    ram_gb = max(request.memory_gb, usage.peak_memory_bytes / GB)
    gpus = max(request.gpus, used_gpus)
    storage_gb = max(usage.storage_bytes, 0) / GB
    return ComputeCost(
        cpu_usd=cores * hours * prices.cpu_core_hour,
        ram_usd=ram_gb * hours * prices.ram_gb_hour,
        gpu_usd=gpus * hours * prices.gpu_hour,
        storage_usd=storage_gb * prices.storage_gb_month * prices.storage_months,
    )


def staff_line(
    activity: str,
    staffing: StaffingParams,
    *,
    hours: float | None = None,
    role: str | None = None,
) -> StaffLine:
    """Price an activity from params, or explicit hours of a role; unknown names are errors."""
    known = staffing.activities.get(activity)
    if known is None and role is None:
        raise LedgerError(
            f"activity = {activity!r}: not one of staffing.activities "
            f"{sorted(staffing.activities)} (or give a role and hours)"
        )
    chosen_role = role if role is not None else known.role  # type: ignore[union-attr]
    if chosen_role not in staffing.roles:
        raise LedgerError(
            f"role = {chosen_role!r}: not one of staffing.roles {sorted(staffing.roles)}"
        )
    chosen_hours = hours if hours is not None else known.hours  # type: ignore[union-attr]
    if not chosen_hours >= 0:
        raise LedgerError(f"hours = {chosen_hours!r}: must be a number >= 0")
    return StaffLine(activity, chosen_role, float(chosen_hours), staffing.roles[chosen_role])
