"""Cross-validation folds: rows sharing a group never sit on both sides of a fold."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from lifecycle.config import Params
from lifecycle.features import binary_target, model_inputs
from lifecycle.train import cv_folds


def test_unique_ids_keep_the_plain_stratified_folds(params: Params, table: pd.DataFrame) -> None:
    folds, groups = cv_folds(table, params)
    assert type(folds).__name__ == "StratifiedKFold"
    assert groups is None
    assert folds.n_splits == params.train.cv_folds


def test_copies_of_a_group_stay_in_one_fold(
    make_params: Callable[..., Params], table: pd.DataFrame
) -> None:
    params = make_params(data={"group_column": "origin"})
    base = table.head(600)
    twice = pd.concat([base.assign(origin=base.index), base.assign(origin=base.index)])
    folds, groups = cv_folds(twice, params)
    assert type(folds).__name__ == "StratifiedGroupKFold"
    x, y = model_inputs(twice, params.data), binary_target(twice, params.data)
    seen: dict[int, int] = {}
    for k, (_, scored) in enumerate(folds.split(x, y, groups=groups)):
        for origin in set(groups.iloc[scored]):
            assert seen.setdefault(origin, k) == k  # scored in one fold only, never fitted on it
    assert len(seen) == len(base)
