"""Split and preprocessing: stratified, seeded, built from params; refuses non-binary targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle.config import DataParams, FeatureParams, Params
from lifecycle.features import (
    TargetError,
    binary_target,
    cap_rows,
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


def _numeric_only() -> tuple[DataParams, pd.DataFrame, np.ndarray]:
    """A seeded table of numbers only (no categorical feature at all), and its target."""
    rng = np.random.default_rng(3)
    names = tuple(f"x{j}" for j in range(7))
    frame = pd.DataFrame({c: rng.normal(j, 1 + j, 300) for j, c in enumerate(names)})
    frame.loc[frame.index[::17], "x1"] = np.nan
    y = (frame["x0"] + rng.normal(0, 0.5, 300) > 0).astype(int).to_numpy()
    data = DataParams(
        source="t.csv", id_column="id", target="y", positive_label=1, numeric=names,
        categorical=(),
    )  # fmt: skip
    return data, frame, y


def test_a_table_without_categories_fits_and_scores_on_the_fast_path() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from lifecycle.serve.fastpath import build_fast, probe_rows, verify

    data, frame, y = _numeric_only()
    prep = preprocessor(data, FeatureParams())
    assert [name for name, _, _ in prep.transformers] == ["numeric"]
    model = Pipeline([("prep", prep), ("model", LogisticRegression())]).fit(
        model_inputs(frame, data), y
    )
    fast = build_fast(model)
    rows = frame.head(20).astype(object).where(frame.head(20).notna(), None)
    got = fast(rows.to_dict("records"))
    want = model.predict_proba(model_inputs(frame.head(20), data))[:, 1]
    assert np.array_equal(got, want)
    probes = probe_rows(fast, 256, {"x1"})
    assert verify(fast, model, probes, (data.numeric, data.categorical)) is None


def test_integer_coded_categories_are_read_as_text() -> None:
    data = DataParams(
        source="t.csv", id_column="id", target="y", positive_label=1, numeric=("a",),
        categorical=("race",), cast={"race": "text"},
    )  # fmt: skip
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "race": [1, 2.0, None, 3]})
    x = model_inputs(frame, data)
    assert x["race"].tolist()[:2] == ["1", "2"] and x["race"].tolist()[3] == "3"
    assert pd.isna(x["race"].iloc[2])
    with pytest.raises(ValueError, match=r"data.cast.a: 'text' casts only columns of"):
        DataParams(
            source="t.csv", id_column="id", target="y", positive_label=1, numeric=("a",),
            categorical=(), cast={"a": "text"},
        )  # fmt: skip


def test_duplicate_ids_stay_on_one_side_of_the_split(params: Params, table: pd.DataFrame) -> None:
    doubled = pd.concat([table, table.sample(frac=0.5, random_state=1)], ignore_index=True)
    train, holdout = split_frame(doubled, params.data, params.split)
    ids = params.data.id_column
    assert not set(train[ids]) & set(holdout[ids])
    assert len(train) + len(holdout) == len(doubled)
    assert len(holdout) / len(doubled) == pytest.approx(params.split.holdout_size, abs=0.02)
    rate = binary_target(doubled, params.data).mean()
    assert binary_target(holdout, params.data).mean() == pytest.approx(rate, abs=0.03)


def test_training_rows_are_capped_by_a_seeded_stratified_sample(
    params: Params, table: pd.DataFrame
) -> None:
    kept = cap_rows(table, params.data, 2000, seed=7)
    assert len(kept) == 2000
    assert kept.equals(cap_rows(table, params.data, 2000, seed=7))
    assert not kept.equals(cap_rows(table, params.data, 2000, seed=8))
    rate = binary_target(table, params.data).mean()
    assert binary_target(kept, params.data).mean() == pytest.approx(rate, abs=0.001)
    ids = kept[params.data.id_column]
    assert ids.is_unique and ids.is_monotonic_increasing  # the file's order, no row twice
    assert set(ids) <= set(table[params.data.id_column])


def test_no_cap_or_a_cap_above_the_rows_keeps_every_row(
    params: Params, table: pd.DataFrame
) -> None:
    assert cap_rows(table, params.data, None, seed=7) is table
    assert cap_rows(table, params.data, len(table), seed=7) is table
