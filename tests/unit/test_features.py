"""Split and preprocessing: stratified, seeded, built from params; refuses non-binary targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle.config import Params
from lifecycle.features import (
    TargetError,
    binary_target,
    model_inputs,
    preprocessor,
    split_frame,
)


def test_split_is_stratified_and_seeded(params: Params, table: pd.DataFrame) -> None:
    train, holdout = split_frame(table, params.data, params.split)
    again, _ = split_frame(table, params.data, params.split)
    assert train.equals(again)
    assert len(holdout) == pytest.approx(len(table) * params.split.holdout_size, abs=1)
    rate = binary_target(table, params.data).mean()
    assert binary_target(train, params.data).mean() == pytest.approx(rate, abs=0.005)
    assert binary_target(holdout, params.data).mean() == pytest.approx(rate, abs=0.005)
    assert not set(train[params.data.id_column]) & set(holdout[params.data.id_column])


def test_target_with_three_labels_is_refused(params: Params, table: pd.DataFrame) -> None:
    bad = table.head(30).copy()
    bad.loc[bad.index[0], params.data.target] = "Maybe"
    with pytest.raises(TargetError, match=r"has 3 labels"):
        binary_target(bad, params.data)
    missing = table.head(30).drop(columns=[params.data.target])
    with pytest.raises(TargetError, match="is not in the data"):
        binary_target(missing, params.data)


def test_preprocessor_handles_unknown_categories(params: Params, table: pd.DataFrame) -> None:
    x = model_inputs(table, params.data)
    prep = preprocessor(params.data, params.features).fit(x)
    out = prep.transform(x.head(5))
    assert out.shape[0] == 5 and np.isfinite(out).all()
    odd = x.head(1).copy()
    odd[params.data.categorical[0]] = "never seen"
    assert np.isfinite(prep.transform(odd)).all()
    with pytest.raises(KeyError, match="missing from the data"):
        model_inputs(table.drop(columns=[params.data.numeric[0]]), params.data)
