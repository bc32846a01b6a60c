"""Candidates, the campaign's economics and the promotion rule."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from lifecycle.config.base import Frozen
from lifecycle.config.estimators import check_candidate_params

Family = Literal["logistic_regression", "hist_gradient_boosting", "random_forest"]
MAX_TRAIN_ROWS = 50_000  # docs/scale.md: holdout quality flat past it, fit time linear
Metric = Literal["profit", "roc_auc", "pr_auc", "neg_log_loss", "neg_brier", "f1"]


class Candidate(Frozen):
    """One candidate model: a family and its hyperparameters."""

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    family: Family
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("params")
    @classmethod
    def _known_params(cls, value: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        """A typo or an out-of-range value fails at load, naming the key (not at fit time)."""
        family = info.data.get("family")
        if family is not None:
            check_candidate_params(family, value)
        return value


class TrainParams(Frozen):
    """Candidates and how the best is chosen."""

    cv_folds: int = Field(ge=2, le=20)
    selection_metric: Metric
    threshold: float = Field(gt=0, lt=1)
    seed: int
    candidates: tuple[Candidate, ...] = Field(min_length=1)
    # candidates learn from at most this many training rows (a seeded sample stratified on the
    # target; null: every row): past it the holdout gains nothing and the fits grow linearly
    max_rows: int | None = Field(default=MAX_TRAIN_ROWS, ge=100)

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

    @field_validator("margin")
    @classmethod
    def _margin_not_negative(cls, value: float) -> float:
        """A negative margin would promote a challenger that may be worse than the champion."""
        if value < 0:
            raise ValueError(
                "must be 0 or more: a negative margin promotes a challenger whose gain's lower "
                "bound is below zero, i.e. one that may be worse than the champion"
            )
        return value


class MlflowParams(Frozen):
    """Experiment and registered model names (the tracking URI comes from the environment)."""

    experiment: str = Field(min_length=1)
    model_name: str = Field(min_length=1)
