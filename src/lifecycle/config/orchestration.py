"""How flows run: the Dask cluster, the work pool, deployment schedules."""

from __future__ import annotations

from pydantic import Field

from lifecycle.config.base import Frozen


class OrchestrationParams(Frozen):
    """How flows run: Dask cluster for the candidate fits, work pool, deployment schedules."""

    dask_address: str | None = None
    dask_workers: int = Field(default=2, ge=1, le=64)
    work_pool: str = Field(default="lifecycle-process", min_length=1)
    ingest_cron: str = Field(default="0 6 1 * *", min_length=9)
    monitor_cron: str = Field(default="0 7 * * *", min_length=9)
    timezone: str = "UTC"
    monitor_month: int = Field(default=1, ge=1)
    monitor_scenario: str | None = None
