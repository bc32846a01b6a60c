"""The value ledger: when outcomes arrive, how sure an estimate must be."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from lifecycle.config.base import Frozen


class ValueParams(Frozen):
    """What a model version earns: outcome lag, calibration gate, estimate intervals."""

    outcome_lag_periods: int = Field(default=1, ge=0, le=24)
    calibration: Literal["auto", "none", "isotonic"] = "auto"
    max_ece: float = Field(default=0.05, gt=0, le=0.5)
    calibration_bins: int = Field(default=10, ge=2, le=50)
    min_calibration_rows: int = Field(default=200, ge=20)
    confidence: float = Field(default=0.9, gt=0, lt=1)
    draws: int = Field(default=0, ge=0, le=20000)
    min_labelled_share: float = Field(default=0.9, gt=0, le=1)
    seed: int = 42
    retrain_policy: Literal["off", "value"] = "off"
    horizon_periods: int = Field(default=3, ge=1, le=60)
    violations_needed: int = Field(default=2, ge=1)
    violations_window: int = Field(default=3, ge=1)
    value_drop_share: float = Field(default=0.2, gt=0, le=1)
    reference_periods: int = Field(default=2, ge=1)

    @model_validator(mode="after")
    def _n_of_m(self) -> ValueParams:
        """N violating windows cannot be asked of fewer than N windows."""
        if self.violations_needed > self.violations_window:
            raise ValueError(
                f"value.violations_needed = {self.violations_needed}: must be <= "
                f"value.violations_window {self.violations_window} (N of M windows)"
            )
        return self

    @model_validator(mode="after")
    def _draws(self) -> ValueParams:
        """A handful of outcome draws would make the interval noise, not a spread."""
        if 0 < self.draws < 50:
            raise ValueError(
                f"value.draws = {self.draws}: must be 0 (closed-form intervals) or at least 50 "
                "(outcome draws)"
            )
        return self
