"""When a candidate's training stops: early stopping, and a time and CPU budget per candidate."""

from __future__ import annotations

from pydantic import Field

from lifecycle.config.base import Frozen


class ConvergenceParams(Frozen):
    """Early stopping where the estimator has it; a per-candidate wall and CPU budget."""

    early_stopping: bool = True
    validation_fraction: float = Field(default=0.1, gt=0, lt=0.5)
    n_iter_no_change: int = Field(default=10, ge=1)
    max_seconds: float | None = Field(default=900.0, gt=0)
    max_cpu_seconds: float | None = Field(default=1800.0, gt=0)
