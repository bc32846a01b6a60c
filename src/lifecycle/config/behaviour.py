"""Behavioural tests a challenger passes before promotion (CheckList style), declared per table."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from lifecycle.config.base import Frozen
from lifecycle.config.data import DataParams


class Directional(Frozen):
    """Moving one column one step up must not move the score the wrong way (beyond tolerance)."""

    column: str
    direction: Literal["not_increase", "not_decrease"]
    step: float | None = Field(default=None, gt=0)  # numeric columns: added to the value
    order: tuple[str, ...] | None = Field(default=None, min_length=2)  # categorical: low to high
    tolerance: float = Field(default=0.02, ge=0, le=1)
    min_share: float = Field(default=0.95, gt=0, le=1)

    @model_validator(mode="after")
    def _one_way_to_move(self) -> Directional:
        """A numeric column moves by a step, a categorical one along a stated order: not both."""
        if (self.step is None) == (self.order is None):
            raise ValueError(
                f"behaviour.directional {self.column!r}: give step (numeric) or order "
                "(categorical), exactly one"
            )
        return self


class SliceFloor(Frozen):
    """Every group of a column (with enough rows) keeps a minimum of a ranking metric."""

    column: str
    metric: Literal["roc_auc", "pr_auc"] = "roc_auc"
    min: float = Field(ge=0, le=1)
    min_rows: int = Field(default=50, ge=2)


class BehaviourParams(Frozen):
    """Invariance, directional expectations, slice floors and edge cases, on holdout rows."""

    enabled: bool = True
    max_rows: int = Field(default=1000, ge=10)
    seed: int = 42
    invariant: tuple[str, ...] = ()  # columns that must not matter (the id column always)
    invariance_tolerance: float = Field(default=1.0e-9, ge=0)
    directional: tuple[Directional, ...] = ()
    slices: tuple[SliceFloor, ...] = ()
    edge_cases: bool = True


def check_behaviour_columns(spec: BehaviourParams, data: DataParams) -> None:
    """Unknown columns, a step on a categorical, an order on a number: errors naming the key."""
    known = {data.id_column, *data.features}
    for i, name in enumerate(spec.invariant):
        if name not in known:
            raise ValueError(f"behaviour.invariant.{i} = {name!r}: not a column of data")
    for i, d in enumerate(spec.directional):
        where = f"behaviour.directional.{i}.column = {d.column!r}"
        if d.column not in data.features:
            raise ValueError(f"{where}: not a feature of data")
        if d.column in data.categorical and d.order is None:
            raise ValueError(f"{where}: a categorical column needs an order for a direction")
        if d.column in data.numeric and d.step is None:
            raise ValueError(f"{where}: a numeric column needs a step, not an order")
    for i, s in enumerate(spec.slices):
        if s.column not in data.features:
            raise ValueError(f"behaviour.slices.{i}.column = {s.column!r}: not a feature of data")
