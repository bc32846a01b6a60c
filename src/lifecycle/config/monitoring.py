"""When drift or decay is called, and when a retrain may start."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from lifecycle.config.base import Frozen


class DriftParams(Frozen):
    """Thresholds of the drift and decay check: which test decides, and how far is too far."""

    numeric_test: Literal["ks", "psi"] = "ks"
    categorical_test: Literal["chi2", "psi"] = "chi2"
    psi_bins: int = Field(default=10, ge=2, le=100)
    psi_epsilon: float = Field(default=1e-4, gt=0, lt=0.01)
    psi_threshold: float = Field(default=0.2, gt=0)
    ks_pvalue: float = Field(default=0.05, gt=0, lt=1)
    chi2_pvalue: float = Field(default=0.05, gt=0, lt=1)
    drift_share: float = Field(default=0.3, gt=0, le=1)
    severe_psi: float = Field(default=0.25, gt=0)
    min_rows: int = Field(default=30, ge=2)
    max_missing_increase: float = Field(default=0.05, ge=0, le=1)
    max_unseen_share: float = Field(default=0.02, ge=0, le=1)
    score_psi_threshold: float = Field(default=0.2, gt=0)
    auc_drop: float = Field(default=0.05, ge=0, le=1)
    profit_drop_share: float = Field(default=0.2, ge=0)


class RetrainParams(Frozen):
    """When a retrain may start: enough new labels, a schedule, and its planned cost."""

    min_new_labelled_rows: int = Field(default=500, ge=1)
    schedule_days: float = Field(default=30.0, gt=0)
    planned_usd: float = Field(default=5.0, ge=0)
    window_rows: int | None = Field(default=500, ge=1)
