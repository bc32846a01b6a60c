"""The stratified split and the sklearn preprocessing pipeline, both from params."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.columns import cast_columns
from lifecycle.config import DataParams, FeatureParams, Params, SplitParams
from lifecycle.paths import Paths

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from sklearn.compose import ColumnTransformer


class TargetError(ValueError):
    """A target column that does not make a binary problem."""


@dataclass(frozen=True)
class SplitResult:
    """Where the split went and how big each side is."""

    train: Path
    holdout: Path
    reference: Path
    train_rows: int
    holdout_rows: int
    positive_rate: float


def binary_target(df: pd.DataFrame, data: DataParams) -> np.ndarray:
    """The target as 0/1, refusing anything that is not exactly two known labels."""
    import numpy as np

    if data.target not in df.columns:
        raise TargetError(f"data.target: column {data.target!r} is not in the data")
    labels = df[data.target]
    if labels.isna().any():
        raise TargetError(f"data.target: {int(labels.isna().sum())} row(s) have no label")
    seen = sorted({str(v) for v in labels.unique()})
    if len(seen) > 2:
        raise TargetError(f"data.target: {data.target!r} has {len(seen)} labels {seen}; need 2")
    if str(data.positive_label) not in seen:
        raise TargetError(
            f"data.positive_label: {data.positive_label!r} not among the labels {seen}"
        )
    return np.asarray(labels.astype(str) == str(data.positive_label), dtype=int)


def split(params: Params, paths: Paths) -> SplitResult:
    """Stratified, seeded split of the validated data into train and holdout files."""
    import pandas as pd

    df = pd.read_parquet(paths.validated)
    train, holdout = split_frame(df, params.data, params.split)
    for frame, path in ((train, paths.train_set), (holdout, paths.holdout_set)):
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
    paths.reference.parent.mkdir(parents=True, exist_ok=True)
    train.to_parquet(paths.reference, index=False)
    y = binary_target(df, params.data)
    return SplitResult(
        paths.train_set,
        paths.holdout_set,
        paths.reference,
        len(train),
        len(holdout),
        float(y.mean()),
    )


def cap_rows(df: pd.DataFrame, data: DataParams, max_rows: int | None, seed: int) -> pd.DataFrame:
    """At most max_rows rows, sampled with a seed and stratified on the target (all when fewer)."""
    if max_rows is None or len(df) <= max_rows:
        return df
    from sklearn.model_selection import train_test_split

    kept: pd.DataFrame
    kept, _ = train_test_split(
        df, train_size=max_rows, random_state=seed, stratify=binary_target(df, data)
    )
    return kept.sort_index().reset_index(drop=True)  # the file's order: a stable, readable sample


def split_frame(
    df: pd.DataFrame, data: DataParams, spec: SplitParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratify on the target; rows sharing an id (or data.group_column) stay on one side."""
    from sklearn.model_selection import train_test_split

    y = binary_target(df, data)
    group = data.group_column or data.id_column
    if group not in df.columns:
        raise KeyError(f"data.group_column: column {group!r} is not in the data")
    keys = df[group]
    if keys.is_unique:
        train, holdout = train_test_split(
            df, test_size=spec.holdout_size, random_state=spec.seed, stratify=y
        )
        return train.reset_index(drop=True), holdout.reset_index(drop=True)
    # one row per group, stratified on whether the group holds a positive; then every row follows
    import pandas as pd

    has_positive = pd.Series(y, index=keys.to_numpy()).groupby(level=0).max()
    unique = keys[~keys.duplicated(keep="first")].to_numpy()
    strata = has_positive.loc[unique].to_numpy()
    _, held = train_test_split(
        unique, test_size=spec.holdout_size, random_state=spec.seed, stratify=strata
    )
    in_holdout = keys.isin(set(held.tolist())).to_numpy()
    train, holdout = df[~in_holdout], df[in_holdout]
    return train.reset_index(drop=True), holdout.reset_index(drop=True)


def preprocessor(data: DataParams, spec: FeatureParams) -> ColumnTransformer:
    """Impute and scale numbers, one-hot categories (unknown ones ignored, not fatal)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric_steps: list[tuple[str, Any]] = [
        ("impute", SimpleImputer(strategy=spec.numeric_imputer))
    ]
    if spec.scale_numeric:
        numeric_steps.append(("scale", StandardScaler()))
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    blocks = [
        ("numeric", Pipeline(numeric_steps), list(data.numeric)),
        ("categorical", categorical, list(data.categorical)),
    ]
    # a block with no column is left out: an unfitted encoder in the fitted pipeline breaks
    # every reader that walks its steps (the serving fast path, the ONNX export)
    return ColumnTransformer(
        [block for block in blocks if block[2]],
        remainder="drop",
        verbose_feature_names_out=False,
    )


def model_inputs(df: pd.DataFrame, data: DataParams) -> pd.DataFrame:
    """The feature columns with stable dtypes: floats for numbers, object for categories."""
    missing = [c for c in data.features if c not in df.columns]
    if missing:
        raise KeyError(f"feature column(s) missing from the data: {missing}")
    x = cast_columns(df[list(data.features)], data).copy()
    x = x.astype({c: "float64" for c in data.numeric})
    return x.astype({c: object for c in data.categorical})
