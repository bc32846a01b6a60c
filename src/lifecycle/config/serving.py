"""The service's params: limits, hot swap, micro-batching, prediction log, shadow, canary."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from lifecycle.config.base import Frozen


class ServingParams(Frozen):
    """The API's limits, hot swap, micro-batching and prediction log (lifecycle.serve)."""

    max_records: int = Field(default=10_000, ge=1)
    max_body_bytes: int = Field(default=16_000_000, ge=1024)
    threshold: float | None = Field(default=None, gt=0, lt=1)
    poll_seconds: float = Field(default=10.0, ge=0)
    batch_max_rows: int = Field(default=256, ge=1)
    batch_wait_ms: float = Field(default=0.0, ge=0, le=1000)
    log_flush_seconds: float = Field(default=1.0, gt=0, le=60)
    log_buffer_rows: int = Field(default=20_000, ge=1)
    ledger_period_seconds: float = Field(default=3600.0, ge=60)
    ledger_update_seconds: float = Field(default=60.0, ge=1, le=3600)
    verify_rows: int = Field(default=256, ge=8)
    out_of_contract: Literal["reject", "flag"] = "reject"
    alias_watch_seconds: float = Field(default=0.2, gt=0, le=60)
    # the challenger on live traffic (lifecycle.serve.shadow / canary)
    challenger_alias: str = Field(default="challenger", pattern=r"^[A-Za-z][A-Za-z0-9_\-]*$")
    shadow: bool = False
    shadow_max_added_ms: float = Field(default=5.0, gt=0, le=1000)
    shadow_max_delay_seconds: float = Field(default=5.0, gt=0, le=300)
    shadow_queue_rows: int = Field(default=20_000, ge=1)
    shadow_min_labelled: int = Field(default=200, ge=1)
    canary_share: float = Field(default=0.0, ge=0, le=1)
    canary_window: int = Field(default=200, ge=10, le=100_000)
    canary_min_requests: int = Field(default=20, ge=1)
    canary_max_error_rate: float = Field(default=0.05, ge=0, le=1)
    canary_max_p95_ms: float = Field(default=250.0, gt=0)

    @model_validator(mode="after")
    def _canary_window_holds_min(self) -> ServingParams:
        """The step-back rule needs its minimum of requests to fit in the window."""
        if self.canary_min_requests > self.canary_window:
            raise ValueError(
                f"canary_min_requests ({self.canary_min_requests}) is more than "
                f"canary_window ({self.canary_window})"
            )
        return self
