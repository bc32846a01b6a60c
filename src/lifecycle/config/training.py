"""Candidates, the campaign's economics and the promotion rule."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from lifecycle.config.base import Frozen

Family = Literal["logistic_regression", "hist_gradient_boosting", "random_forest"]
Metric = Literal["profit", "roc_auc", "pr_auc", "neg_log_loss", "neg_brier", "f1"]


class Candidate(Frozen):
    """One candidate model: a family and its hyperparameters."""

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    family: Family
    params: dict[str, Any] = Field(default_factory=dict)


class TrainParams(Frozen):
    """Candidates and how the best is chosen."""

    cv_folds: int = Field(ge=2, le=20)
    selection_metric: Metric
    threshold: float = Field(gt=0, lt=1)
    seed: int
    candidates: tuple[Candidate, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> TrainParams:
        """Candidate names key MLflow runs, so they must differ."""
        names = [c.name for c in self.candidates]
        if len(set(names)) != len(names):
            raise ValueError(f"candidate names repeat: {names}")
        return self


class CampaignParams(Frozen):
    """The retention campaign's economics: what a ranking is worth in money."""

    contact_cost: float = Field(ge=0)
    retained_value: float = Field(ge=0)
    acceptance_rate: float = Field(ge=0, le=1)
    capacity_share: float = Field(gt=0, le=1)


class PromotionParams(Frozen):
    """When a challenger may replace the champion."""

    metric: Metric
    margin: float
    bootstrap_samples: int = Field(ge=100)
    confidence: float = Field(gt=0.5, lt=1)
    seed: int
    min_roc_auc: float = Field(ge=0, le=1)


class MlflowParams(Frozen):
    """Experiment and registered model names (the tracking URI comes from the environment)."""

    experiment: str = Field(min_length=1)
    model_name: str = Field(min_length=1)
