"""The table and what happens to it before training: source, validation, simulation, split."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from lifecycle.config.base import Frozen


class ProjectParams(Frozen):
    """Names the project in reports and the ledger."""

    name: str = Field(min_length=1)


# the prediction log's own fields (`lifecycle.serve.predlog`): no column may take these names
LOG_FIELDS = frozenset(
    {"request_id", "record", "time", "model_version", "score", "label", "source", "variant"}
    | {"shadow_version", "shadow_score", "shadow_label", "outcome"}
    | {"correlation_id", "out_of_contract"}
)


class DataParams(Frozen):
    """Where the table comes from and what its columns mean."""

    source: str = Field(min_length=1)
    query: str | None = None
    rename: dict[str, str] = Field(default_factory=dict)
    id_column: str
    target: str
    positive_label: str | int
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    # column -> how it is read: "text" makes integer-coded categories (1, 2, 3) text ("1", "2",
    # "3") at ingest, validation and training; "number" reads a numeric column stored as text
    cast: dict[str, Literal["text", "number"]] = Field(default_factory=dict)
    # rows sharing a value of this column land on one side of the train/holdout split (null:
    # id_column, so a duplicated id never leaks from train into the holdout)
    group_column: str | None = None

    @model_validator(mode="after")
    def _columns_distinct(self) -> DataParams:
        """A column plays one role only; casts fit the role of the column they name."""
        roles = [self.id_column, self.target, *self.numeric, *self.categorical]
        dupes = sorted({c for c in roles if roles.count(c) > 1})
        if dupes:
            raise ValueError(f"columns listed in more than one role: {dupes}")
        clash = sorted(LOG_FIELDS.intersection([self.id_column, *self.numeric, *self.categorical]))
        if clash:
            raise ValueError(f"column names reserved by the prediction log: {clash}")
        if not (self.numeric or self.categorical):
            raise ValueError("at least one numeric or categorical feature is needed")
        if self.source.startswith("sql:") and not self.query:
            raise ValueError("a sql: source needs data.query")
        for col, kind in self.cast.items():
            allowed = self.categorical if kind == "text" else self.numeric
            if col not in allowed:
                role = "data.categorical" if kind == "text" else "data.numeric"
                raise ValueError(f"data.cast.{col}: {kind!r} casts only columns of {role}")
        return self

    @property
    def features(self) -> tuple[str, ...]:
        """Every model input, numeric first."""
        return (*self.numeric, *self.categorical)


class ValidationParams(Frozen):
    """The rules a batch must meet before it may reach training."""

    min_rows: int = Field(ge=1)
    max_null_fraction: dict[str, float] = Field(default_factory=dict)
    ranges: dict[str, tuple[float, float]] = Field(default_factory=dict)
    categories: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    target_labels: tuple[str | int, str | int]

    @model_validator(mode="after")
    def _sane(self) -> ValidationParams:
        """Ranges run low to high; null shares are shares."""
        for col, (low, high) in self.ranges.items():
            if low > high:
                raise ValueError(f"ranges.{col}: low {low} is above high {high}")
        for col, share in self.max_null_fraction.items():
            if not 0 <= share <= 1:
                raise ValueError(f"max_null_fraction.{col}: {share} is not between 0 and 1")
        return self


class Scenario(Frozen):
    """A named drift applied to a monthly batch, for demos and tests."""

    kind: Literal["scale", "category_mix", "new_category", "relation"]
    column: str
    factor: float = 1.0
    value: str | None = None
    share: float = Field(default=0.5, ge=0, le=1)
    strength: float = Field(default=0.8, ge=0, le=1)

    @model_validator(mode="after")
    def _needs_value(self) -> Scenario:
        """Category scenarios name the category they push."""
        if self.kind in ("category_mix", "new_category") and self.value is None:
            raise ValueError(f"a {self.kind} scenario needs a value")
        return self


class SimulationParams(Frozen):
    """How production arrival is simulated from one static table."""

    seed: int
    reference_fraction: float = Field(gt=0, lt=1)
    months: int = Field(ge=1, le=60)
    scenarios: dict[str, Scenario] = Field(default_factory=dict)
    drift_from_month: int = Field(default=2, ge=1, le=60)


class SplitParams(Frozen):
    """The stratified train/holdout split."""

    holdout_size: float = Field(gt=0, lt=1)
    seed: int


class FeatureParams(Frozen):
    """The preprocessing pipeline's choices."""

    numeric_imputer: Literal["median", "mean"] = "median"
    scale_numeric: bool = True
