"""The cost ledger's params: prices, resource requests, staffing, budget, the year's estimate."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from lifecycle.config.base import Frozen

Phase = Literal["exploration", "development", "deployment", "maintenance"]


class PriceSheet(Frozen):
    """Unit prices of compute and storage (OpenCost's published default list by default)."""

    currency: Literal["USD"] = "USD"
    cpu_core_hour: float = Field(default=0.031611, ge=0)
    ram_gb_hour: float = Field(default=0.004237, ge=0)
    gpu_hour: float = Field(default=0.95, ge=0)
    storage_gb_month: float = Field(default=0.04, ge=0)
    storage_months: float = Field(default=1.0, ge=0)


class ResourceRequest(Frozen):
    """What a run asks the scheduler for; OpenCost charges max(requested, used)."""

    cpu_cores: float = Field(ge=0)
    memory_gb: float = Field(ge=0)
    gpus: float = Field(default=0.0, ge=0)


class ResourceParams(Frozen):
    """Requests per run: 'kind:name', then 'name', then 'kind', then the default."""

    default: ResourceRequest
    overrides: dict[str, ResourceRequest] = Field(default_factory=dict)

    def request_for(self, kind: str, name: str) -> ResourceRequest:
        """The most specific request that matches a run."""
        for key in (f"{kind}:{name}", name, kind):
            if key in self.overrides:
                return self.overrides[key]
        return self.default


class Activity(Frozen):
    """A piece of human work charged when its event happens."""

    role: str = Field(min_length=1)
    hours: float = Field(ge=0)
    phase: Phase | None = None


class StaffingParams(Frozen):
    """Roles with hourly rates and the activities events charge."""

    roles: dict[str, float] = Field(min_length=1)
    activities: dict[str, Activity] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_roles(self) -> StaffingParams:
        """Rates are non-negative and every activity names a known role."""
        for role, rate in self.roles.items():
            if rate < 0:
                raise ValueError(f"staffing.roles.{role} = {rate}: an hourly rate must be >= 0")
        for name, act in self.activities.items():
            if act.role not in self.roles:
                raise ValueError(
                    f"staffing.activities.{name}.role = {act.role!r}: not one of the roles "
                    f"{sorted(self.roles)}"
                )
        return self


class BudgetParams(Frozen):
    """Money allowed per month in each phase, and when the forecast should alert."""

    monthly_usd: dict[Phase, float] = Field(default_factory=dict)
    alert_share: float = Field(default=1.0, gt=0)
    lookback_days: int = Field(default=90, ge=1)
    min_history_days: int = Field(default=28, ge=1)

    @model_validator(mode="after")
    def _non_negative(self) -> BudgetParams:
        """A budget is an amount of money, never negative; a forecast needs room to learn."""
        for phase, usd in self.monthly_usd.items():
            if usd < 0:
                raise ValueError(f"budget.monthly_usd.{phase} = {usd}: must be >= 0")
        if self.min_history_days > self.lookback_days:
            raise ValueError(
                f"budget.min_history_days = {self.min_history_days}: must not exceed "
                f"budget.lookback_days ({self.lookback_days})"
            )
        return self


class EstimateParams(Frozen):
    """A one-year plan of the project's cost, by phase, to set beside the actuals."""

    hours_per_month: float = Field(default=160.0, gt=0)
    months: dict[Phase, float] = Field(default_factory=dict)
    team: dict[Phase, dict[str, float]] = Field(default_factory=dict)
    data_acquisition_usd: float = Field(default=0.0, ge=0)
    labelling_usd_per_month: float = Field(default=0.0, ge=0)
    cloud_usd_per_month: dict[Phase, float] = Field(default_factory=dict)
    retrains_per_year: float = Field(default=0.0, ge=0)
    retrain_compute_usd: float = Field(default=0.0, ge=0)

    @model_validator(mode="after")
    def _sane(self) -> EstimateParams:
        """Months and head counts are non-negative and the plan fits in a year."""
        for phase, months in self.months.items():
            if months < 0:
                raise ValueError(f"estimate.months.{phase} = {months}: must be >= 0")
        if sum(self.months.values()) > 12 + 1e-9:
            raise ValueError(
                f"estimate.months sum to {sum(self.months.values())}: a one-year plan holds "
                "at most 12"
            )
        for phase, team in self.team.items():
            for role, fte in team.items():
                if fte < 0:
                    raise ValueError(f"estimate.team.{phase}.{role} = {fte}: must be >= 0")
        for phase, usd in self.cloud_usd_per_month.items():
            if usd < 0:
                raise ValueError(f"estimate.cloud_usd_per_month.{phase} = {usd}: must be >= 0")
        return self
