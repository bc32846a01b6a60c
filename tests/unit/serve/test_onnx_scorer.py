"""A random forest is served through its ONNX graph within the tolerance, or through sklearn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.pipeline import Pipeline

from lifecycle.config import Params, load_params
from lifecycle.portable import to_onnx
from lifecycle.serve.fastpath import batch_invariant, build_fast, pipeline_scorer, probe_rows
from lifecycle.serve.model_holder import (
    make_scorer,
    scorer_engine,
    scorer_is_batch_invariant,
    small_batch_rows,
)
from lifecycle.serve.onnx_scorer import OnnxScorer, build_onnx, verify_onnx
from lifecycle.train import build_pipeline
from tests.support.ledger_fixtures import PARAMS_FILE
from tests.support.synthetic import synthetic_rows


@pytest.fixture(scope="module")
def params() -> Params:
    """The repository's params: its columns, its candidates and `release.onnx_tolerance`."""
    return load_params(PARAMS_FILE)


def _fitted(params: Params, family: str, **smaller: Any) -> Pipeline:
    """The family's pipeline as train builds it, small and seeded, fitted on rows with nulls."""
    frame, y = synthetic_rows(params, 800)
    candidate = next(c for c in params.train.candidates if c.family == family)
    pipe = build_pipeline(candidate, params)
    pipe.steps[-1][1].set_params(**smaller)
    return pipe.fit(frame, y)


@pytest.fixture(scope="module")
def forest(params: Params) -> Pipeline:
    """A forest pipeline like the default champion's, with 12 trees."""
    return _fitted(params, "random_forest", n_estimators=12, random_state=0)


@pytest.fixture(scope="module")
def blob(params: Params, forest: Pipeline) -> bytes:
    """The forest's graph, converted once for the module."""
    return to_onnx(forest, params)


def _rows(params: Params, pipe: Pipeline, n: int = 300) -> list[dict[str, Any]]:
    """Probe rows: every category, unseen ones, nulls where params allow them, wide numbers."""
    return probe_rows(build_fast(pipe), n, set(params.validation.max_null_fraction), 5)


def test_onnx_scores_within_tolerance_and_batch_invariant(
    params: Params, forest: Pipeline, blob: bytes
) -> None:
    """Every row within the tolerance of predict_proba, and the same alone or in any batch."""
    scorer = build_onnx(blob, params.data.numeric, params.data.categorical)
    rows = _rows(params, forest)
    reference = pipeline_scorer(forest, params.data.numeric, params.data.categorical)
    diff = np.abs(scorer(rows) - reference(rows))
    assert diff.max() <= params.release.onnx_tolerance
    assert batch_invariant(scorer, rows)
    for size in (1, 3, 64):
        assert np.array_equal(scorer(rows[:size]), scorer(rows)[:size]), size


def test_a_forest_is_served_through_onnx(params: Params, forest: Pipeline) -> None:
    """make_scorer converts the forest at load, proves the tolerance and says so."""
    score, used, note = make_scorer(forest, params)
    assert isinstance(score, OnnxScorer) and used and scorer_engine(score) == "onnx"
    assert note.startswith("ONNX Runtime: max |diff|") and "converted at load" in note
    assert score.max_abs_diff <= params.release.onnx_tolerance
    assert scorer_is_batch_invariant(score, forest, params)
    assert small_batch_rows(score) == score.inline_rows > 0


def test_a_logged_graph_is_used_without_converting(
    params: Params, forest: Pipeline, blob: bytes
) -> None:
    """The version's exported graph (lifecycle export-onnx) spares the conversion."""
    score, used, note = make_scorer(forest, params, blob)
    assert isinstance(score, OnnxScorer) and used and "logged graph" in note


def test_an_unusable_graph_falls_back_to_the_pipeline(params: Params, forest: Pipeline) -> None:
    """A graph onnxruntime cannot load leaves the forest on sklearn's exact scores."""
    score, used, note = make_scorer(forest, params, b"not an onnx graph")
    assert not used and scorer_engine(score) == "pipeline"
    assert note.startswith("pipeline used: ONNX conversion failed")
    rows = _rows(params, forest, 20)
    reference = pipeline_scorer(forest, params.data.numeric, params.data.categorical)
    assert np.array_equal(score(rows), reference(rows))


def test_scores_out_of_tolerance_are_refused(params: Params, forest: Pipeline, blob: bytes) -> None:
    """A graph whose scores drift past the tolerance is not accepted."""
    scorer = build_onnx(blob, params.data.numeric, params.data.categorical)
    rows = _rows(params, forest, 40)
    reference = pipeline_scorer(forest, params.data.numeric, params.data.categorical)

    def shifted(chunk: Any) -> Any:
        return reference(chunk) + 1e-4

    checked, why = verify_onnx(scorer, shifted, rows, 1e-5)
    assert checked is None and why.startswith("ONNX scores differ by")


def test_other_families_keep_the_exact_fast_path(params: Params) -> None:
    """A logistic regression is not converted: the lean scorer, proven bit for bit."""
    pipe = _fitted(params, "logistic_regression")
    score, used, note = make_scorer(pipe, params)
    assert used and scorer_engine(score) == "fast" and note.startswith("verified equal")
