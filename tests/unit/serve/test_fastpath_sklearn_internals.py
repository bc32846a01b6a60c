"""The scikit-learn internals the serving fast path reads are still there, shaped as it expects.

`serve/fastpath.py` and `serve/treeflat.py` read fitted attributes, some of them private
(`HistGradientBoostingClassifier._predictors`, `._baseline_prediction`, `._loss`,
`OneHotEncoder._infrequent_enabled`), to score bit for bit as `predict_proba` does. ONNX
Runtime reached a fifth to a half of the fast path's throughput on 10,000-record requests of a
logistic regression and has no runnable graph of a boosted model here, so those families keep
the fast path (the forest is served through ONNX: docs/serving.md); this test is what fails,
naming the attribute, when a scikit-learn release moves one.
At load the service would refuse a fast path that scores differently, but a missing attribute
would fail the load itself, so an upgrade must pass here first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import sklearn
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from lifecycle.config import Candidate, Params, load_params
from lifecycle.serve.fastpath import build_fast, pipeline_scorer, probe_rows, verify
from lifecycle.serve.treeflat import FlatBoostedTrees
from lifecycle.train import build_pipeline
from tests.support.ledger_fixtures import PARAMS_FILE
from tests.support.synthetic import synthetic_rows

FAMILIES = ["logistic_regression", "hist_gradient_boosting", "random_forest"]
SMALLER = {"n_estimators": 25, "max_iter": 30}  # same internals, fitted in a fraction of the time
HINT = (
    "scikit-learn {version} changed {what}, which the serving fast path reads "
    "(src/lifecycle/serve/{module}.py): adapt it, or serve this family another way "
    "(docs/serving.md, 'Why not ONNX Runtime')"
)


def need(ok: bool, what: str, module: str = "treeflat") -> None:
    """Fail with a message naming the internal that changed and where it is read."""
    if not ok:
        pytest.fail(HINT.format(version=sklearn.__version__, what=what, module=module))


@pytest.fixture(scope="module")
def params() -> Params:
    """The repository's params: its candidate families and its columns."""
    return load_params(PARAMS_FILE)


@pytest.fixture(scope="module")
def pipelines(params: Params) -> dict[str, Pipeline]:
    """Each family's pipeline, fitted once for the module (one OpenMP thread: a shared CPU)."""
    with threadpool_limits(1, user_api="openmp"):
        return {c.family: fitted(params, c) for c in families(params)}


def fitted(params: Params, candidate: Candidate) -> Pipeline:
    """The candidate's pipeline as train builds it, fitted on seeded rows with nulls."""
    frame, y = synthetic_rows(params, 1200)
    pipe = build_pipeline(candidate, params)
    model = pipe.steps[-1][1]
    model.set_params(**{k: v for k, v in SMALLER.items() if k in model.get_params()})
    return pipe.fit(frame, y)


def families(params: Params) -> list[Candidate]:
    """One candidate per family in params.yaml."""
    seen: dict[str, Candidate] = {}
    for c in params.train.candidates:
        seen.setdefault(c.family, c)
    return list(seen.values())


def _check_preprocessing(pipe: Pipeline) -> None:
    """The ColumnTransformer's fitted statistics fastpath.build_fast reads."""
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    prep = pipe.steps[0][1]
    need(hasattr(prep, "transformers_"), "ColumnTransformer.transformers_", "fastpath")
    for _, transformer, _ in prep.transformers_:
        for _, step in getattr(transformer, "steps", []):
            if isinstance(step, SimpleImputer):
                for attr in ("statistics_", "missing_values", "add_indicator"):
                    need(hasattr(step, attr), f"SimpleImputer.{attr}", "fastpath")
            if isinstance(step, StandardScaler):
                for attr in ("mean_", "scale_", "with_mean", "with_std"):
                    need(hasattr(step, attr), f"StandardScaler.{attr}", "fastpath")
            if isinstance(step, OneHotEncoder):
                for attr in ("categories_", "drop", "handle_unknown", "sparse_output", "dtype"):
                    need(hasattr(step, attr), f"OneHotEncoder.{attr}", "fastpath")
                need(
                    hasattr(step, "_infrequent_enabled"),
                    "OneHotEncoder._infrequent_enabled (private: read to refuse infrequent "
                    "categories; if renamed, such encoders would be accepted unchecked)",
                    "fastpath",
                )


NODE_FIELDS = {  # TreePredictor.nodes: the fields treeflat.flatten reads, and their kinds
    "feature_idx": "iu",
    "num_threshold": "f",
    "missing_go_to_left": "iub",
    "left": "iu",
    "right": "iu",
    "value": "f",
    "is_leaf": "iub",
    "depth": "iu",
    "is_categorical": "iub",
}


def _check_boosted(model: Any) -> None:
    """HistGradientBoostingClassifier internals treeflat.flatten reads."""
    need(getattr(model, "n_trees_per_iteration_", None) == 1, "n_trees_per_iteration_")
    base = getattr(model, "_baseline_prediction", None)
    need(
        base is not None and np.asarray(base).size == 1,
        "HistGradientBoostingClassifier._baseline_prediction (private: one raw baseline value)",
    )
    loss = getattr(model, "_loss", None)
    need(
        callable(getattr(loss, "predict_proba", None)),
        "HistGradientBoostingClassifier._loss.predict_proba (private: the link function)",
    )
    predictors = getattr(model, "_predictors", None)
    need(
        isinstance(predictors, list)
        and len(predictors) == model.n_iter_
        and all(len(p) == 1 and hasattr(p[0], "nodes") for p in predictors),
        "HistGradientBoostingClassifier._predictors (private: one [TreePredictor] per "
        "iteration, each with .nodes)",
    )
    nodes = predictors[0][0].nodes  # type: ignore[index]
    names = nodes.dtype.names or ()
    for name, kinds in NODE_FIELDS.items():
        need(
            name in names and nodes.dtype[name].kind in kinds,
            f"TreePredictor.nodes[{name!r}] (a structured-array field of kind {kinds!r}; "
            f"found {nodes.dtype.fields.get(name) if nodes.dtype.fields else None})",
        )


@pytest.mark.parametrize("family", FAMILIES)
def test_internals_the_fast_path_reads_exist(
    params: Params, pipelines: dict[str, Pipeline], family: str
) -> None:
    """Each family's fitted pipeline still has the attributes, dtypes and shapes we read."""
    if family not in pipelines:
        pytest.skip(f"params.yaml has no {family} candidate")
    pipe = pipelines[family]
    _check_preprocessing(pipe)
    model = pipe.steps[-1][1]
    if family == "hist_gradient_boosting":
        _check_boosted(model)


def test_every_family_in_params_is_one_the_fast_path_knows(params: Params) -> None:
    """A new family in params.yaml needs its internals listed above (or it is not fast)."""
    assert {c.family for c in params.train.candidates} <= set(FAMILIES)


@pytest.mark.parametrize("family", FAMILIES)
def test_fast_path_scores_equal_predict_proba_bit_for_bit(
    params: Params, pipelines: dict[str, Pipeline], family: str
) -> None:
    """On a freshly fitted pipeline of each family: same matrix, same scores, every batch size."""
    if family not in pipelines:
        pytest.skip(f"params.yaml has no {family} candidate")
    pipe = pipelines[family]
    scorer = build_fast(pipe)
    if family == "hist_gradient_boosting":
        need(isinstance(scorer.small, FlatBoostedTrees), f"{family}: flat trees not built")
    columns = (params.data.numeric, params.data.categorical)
    rows = probe_rows(scorer, 300, set(params.data.features))
    expected = pipeline_scorer(pipe, *columns)
    with threadpool_limits(1, user_api="openmp"):  # as the service runs small calls
        why = verify(scorer, pipe, rows, columns)
        need(why is None, f"{family} scoring: {why}", "fastpath")
        for size in (1, 3, 64, 300):
            chunk = rows[:size]
            assert np.array_equal(scorer(chunk), expected(chunk)), (
                f"scikit-learn {sklearn.__version__}: {family} fast-path scores on {size} rows "
                "differ from predict_proba"
            )
