"""The flat walk of a boosted model gives sklearn's scores bit for bit, or is refused."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from lifecycle.serve.fastpath import build_fast, probe_rows, verify
from lifecycle.serve.treeflat import SMALL_BATCH_ROWS, UnsupportedTreesError, flatten


def _data(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Features with NaNs in one column and a noisy nonlinear target."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    x[rng.random(n) < 0.15, 2] = np.nan
    y = (np.nan_to_num(x[:, 2]) * x[:, 0] + x[:, 1] ** 2 + rng.normal(0, 0.5, n) > 1).astype(int)
    return x, y


@pytest.fixture(scope="module")
def boosted() -> HistGradientBoostingClassifier:
    """A boosted model with missing-value splits (NaNs seen in training)."""
    x, y = _data(3000)
    return HistGradientBoostingClassifier(max_iter=60, max_leaf_nodes=15, random_state=0).fit(x, y)


def test_flat_walk_equals_sklearn_bit_for_bit(boosted: HistGradientBoostingClassifier) -> None:
    """Any batch size, NaNs included, gives exactly predict_proba's numbers."""
    flat = flatten(boosted)
    x, _ = _data(500, seed=1)
    x[::7, 0] = np.nan  # a column that had no NaN in training: sklearn sends it one way
    assert flat.depth >= 2 and flat.roots.size == 60
    assert np.array_equal(flat.predict_proba(x), boosted.predict_proba(x))
    for size in (1, 2, 7, SMALL_BATCH_ROWS):
        part = x[:size]
        assert np.array_equal(flat.predict_proba(part), boosted.predict_proba(part)), size


def test_a_wrong_threshold_would_be_seen(boosted: HistGradientBoostingClassifier) -> None:
    """The comparison above can fail: moving the split points changes the scores."""
    flat = flatten(boosted)
    moved = dataclasses.replace(flat, threshold=flat.threshold + 0.5)
    x, _ = _data(200, seed=2)
    assert not np.array_equal(moved.predict_proba(x), boosted.predict_proba(x))


@pytest.mark.parametrize(
    ("model", "why"),
    [
        (RandomForestClassifier(n_estimators=3, random_state=0), "not a boosted classifier"),
        (HistGradientBoostingClassifier(max_iter=3), "multi-class"),
        (HistGradientBoostingClassifier(max_iter=3, categorical_features=[4]), "categorical"),
    ],
)
def test_unsupported_models_are_refused(model: Any, why: str) -> None:
    """Other estimators, multi-class and categorical splits fall back to sklearn."""
    x, y = _data(600)
    if why == "multi-class":
        y = y + (x[:, 0] > 1)
    if why == "categorical":
        x[:, 4] = np.arange(len(x)) % 4
        y = (x[:, 4] == 2).astype(int)
    with pytest.raises(UnsupportedTreesError, match=why):
        flatten(model.fit(x, y))


def _pipeline(
    model: Any = None,
) -> tuple[Pipeline, tuple[list[str], list[str]]]:
    """ColumnTransformer (imputed and scaled numbers, one-hot categories) + a tree model."""
    rng = np.random.default_rng(3)
    n = 1500
    frame = pd.DataFrame(
        {
            "tenure": rng.normal(30, 10, n),
            "charges": np.where(rng.random(n) < 0.1, np.nan, rng.normal(70, 20, n)),
            "contract": pd.Series(rng.choice(["month", "year", "two"], n), dtype=object),
        }
    )
    y = ((frame["contract"] == "month") & (frame["tenure"] < 30)).astype(int)
    numeric, categorical = ["tenure", "charges"], ["contract"]
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore", sparse_output=False), categorical),
        ]
    )
    model = model if model is not None else HistGradientBoostingClassifier(max_iter=40)
    pipe = Pipeline([("prep", prep), ("model", model)])
    return pipe.fit(frame, y), (numeric, categorical)


def test_service_scorer_uses_flat_trees_and_verifies_them() -> None:
    """The lean scorer answers small batches with the flat walk, proven at load, and a
    flat walk that disagrees with the pipeline on small batches is refused."""
    pipe, columns = _pipeline()
    scorer = build_fast(pipe)
    assert scorer.small is not None
    rows = probe_rows(scorer, 128, {"charges"})
    assert verify(scorer, pipe, rows, columns) is None
    broken = dataclasses.replace(
        scorer, small=dataclasses.replace(scorer.small, baseline=scorer.small.baseline + 1e-9)
    )
    assert verify(broken, pipe, rows, columns) == (
        "small-batch scores (1 rows) differ from pipeline.predict_proba"
    )
