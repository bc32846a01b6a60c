"""ONNX parity per family with the real onnxruntime; explanations that are stable and real."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from lifecycle.config import Candidate, Params
from lifecycle.explain import (
    explain_record,
    global_importance,
    importance_for_version,
    typical_values,
)
from lifecycle.features import binary_target, model_inputs
from lifecycle.paths import Paths
from lifecycle.portable import STATUS_TAG, export, load_onnx, onnx_scores
from lifecycle.registry import client, load_sklearn
from lifecycle.train import build_pipeline, train

pytestmark = pytest.mark.slow

Make = Callable[..., tuple[Params, Paths]]
SMALL = {
    "logistic_regression": {"C": 1.0, "max_iter": 500},
    "random_forest": {"n_estimators": 40, "min_samples_leaf": 5, "n_jobs": 1},
    "hist_gradient_boosting": {"max_iter": 30},
}


def _fit(family: str, params: Params, paths: Paths) -> object:
    train_set = pd.read_parquet(paths.train_set)
    pipe = build_pipeline(Candidate(name=family, family=family, params=SMALL[family]), params)
    return pipe.fit(model_inputs(train_set, params.data), binary_target(train_set, params.data))


@pytest.mark.parametrize("family", ["logistic_regression", "random_forest"])
def test_onnx_scores_equal_the_pipeline(family: str, release_project: Make) -> None:
    params, paths = release_project()
    model = _fit(family, params, paths)
    holdout = pd.read_parquet(paths.holdout_set)
    # missing values on the way in: the imputers must agree too
    holdout.loc[:20, params.data.numeric[0]] = np.nan
    holdout.loc[10:30, params.data.categorical[0]] = None
    result = export(model, holdout, params)
    assert result.ok, result.reason
    assert result.onnx is not None and result.rows == len(holdout)
    got = onnx_scores(result.onnx, model_inputs(holdout, params.data), params)
    want = model.predict_proba(model_inputs(holdout, params.data))[:, 1]  # type: ignore[attr-defined]
    assert np.max(np.abs(got - want)) <= 1e-5
    assert result.max_abs_diff == pytest.approx(float(np.max(np.abs(got - want))), abs=1e-12)
    assert result.tag().startswith("ok: max |diff|")


def test_unsupported_family_is_tagged_not_fatal(release_project: Make) -> None:
    params, paths = release_project(
        train={"candidates": [{"name": "hist_gb", "family": "hist_gradient_boosting",
                               "params": SMALL["hist_gradient_boosting"]}]}
    )  # fmt: skip
    result = train(params, paths)  # the export is attempted inside and must not fail it
    c = client(paths)
    status = c.get_model_version(params.mlflow.model_name, result.version).tags[STATUS_TAG]
    assert status.startswith("unsupported: skl2onnx cannot convert HistGradientBoostingClassifier")
    assert c.get_run(result.run_id).data.tags[STATUS_TAG] == status
    assert len(status) < 1000  # plain words, not the converter's dump of every tree


def test_registered_version_carries_onnx_and_importance(release_project: Make) -> None:
    params, paths = release_project()
    result = train(params, paths)
    c = client(paths)
    tags = c.get_model_version(params.mlflow.model_name, result.version).tags
    assert tags[STATUS_TAG].startswith("ok:")
    blob = load_onnx(params, paths, result.version)
    holdout = pd.read_parquet(paths.holdout_set)
    model = load_sklearn(paths, params.mlflow.model_name, result.version)
    x = model_inputs(holdout, params.data)
    diff = np.abs(onnx_scores(blob, x, params) - model.predict_proba(x)[:, 1])  # type: ignore[attr-defined]
    assert diff.max() <= 1e-5

    logged = importance_for_version(params, paths, result.version)
    assert {i.feature for i in logged} == set(params.data.features)
    metrics = c.get_run(result.run_id).data.metrics
    assert metrics[f"importance_{logged[0].feature}"] == pytest.approx(logged[0].mean)
    assert logged[0].mean > 0 and logged == sorted(logged, key=lambda i: -i.mean)


def test_explanations_are_stable_and_name_real_features(release_project: Make) -> None:
    params, paths = release_project()
    model = _fit("random_forest", params, paths)
    holdout = pd.read_parquet(paths.holdout_set)
    reference = pd.read_parquet(paths.reference)
    typical = typical_values(reference, params)
    record = holdout.iloc[[3]]
    first = explain_record(model, record, params, reference)
    again = explain_record(model, record.to_dict("records")[0], params, typical)
    assert first == again and 0 < len(first) <= params.explain.top_k
    pushes = [abs(c.points) for c in first]
    assert pushes == sorted(pushes, reverse=True)
    x = model_inputs(record, params.data)
    base = model.predict_proba(x)[:, 1][0]  # type: ignore[attr-defined]
    for c in first:
        assert c.feature in params.data.features
        assert c.sentence.startswith(f"{c.feature} = ")
        assert ("raises" if c.points > 0 else "lowers") in c.sentence
        assert f"the {params.data.target} risk" in c.sentence
        # the push is what replacing that one feature by its typical value changes
        swapped = model_inputs(x.assign(**{c.feature: typical[c.feature]}), params.data)
        moved = base - model.predict_proba(swapped)[:, 1][0]  # type: ignore[attr-defined]
        assert c.points == pytest.approx(moved * 100, abs=1e-4)

    # the features that matter globally are the ones that explain records most often
    imp = global_importance(model, holdout, binary_target(holdout, params.data), params)
    top = {i.feature for i in imp[:5]}
    named = [c.feature for i in range(20) for c in explain_record(
        model, holdout.iloc[[i]], params, typical, top_k=2)]  # fmt: skip
    assert sum(f in top for f in named) / len(named) > 0.5
