"""A forest champion is served through its ONNX graph: within the tolerance, converted once."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.integration.serve.project import Project, derive_project


@pytest.fixture(scope="module")
def forest(serving_template: Project, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A project whose champion is the forest candidate (the default champion's family)."""
    folder = tmp_path_factory.mktemp("forest")
    return derive_project(serving_template, folder, "forest", {"n_estimators": 40})


def test_forest_champion_is_served_through_onnx(
    forest: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The holder serves the forest through ONNX within `release.onnx_tolerance` of
    predict_proba on the holdout, from the graph training logged; without one it converts."""
    import pandas as pd

    from lifecycle.features import model_inputs
    from lifecycle.paths import Paths
    from lifecycle.serve import model_holder
    from lifecycle.serve.model_holder import ModelHolder

    for key, value in forest.env.items():
        monkeypatch.setenv(key, value)
    paths, params = Paths(forest.root), forest.params
    holder = ModelHolder(params, paths)
    first = holder.refresh()
    assert first is not None and first.engine == "onnx" and first.fast_path
    assert first.card["scorer"] == "onnx" and "logged graph" in first.fast_path_note
    frame = pd.read_parquet(paths.holdout_set)
    feats = frame[list(params.data.features)].astype(object)
    records: list[dict[str, Any]] = [
        {str(k): v for k, v in r.items()}
        for r in feats.where(feats.notna(), None).to_dict("records")
    ]
    expected = first.pipeline.predict_proba(model_inputs(frame, params.data))[:, 1]
    got = first.score(records)
    assert np.max(np.abs(got - expected)) <= params.release.onnx_tolerance
    assert first.batchable  # trees score each row on its own: micro-batching stays on
    monkeypatch.setattr(model_holder, "logged_onnx", lambda *_: None)  # a version without one
    again = holder.refresh(force=True)
    assert again is not None and again.engine == "onnx"
    assert "converted at load" in again.fast_path_note
    assert np.max(np.abs(again.score(records) - expected)) <= params.release.onnx_tolerance
    print(  # the figures docs/serving.md quotes
        f"\nload with the logged graph: {first.card['load_seconds']} s; "
        f"load converting: {again.card['load_seconds']} s; "
        f"notes: {first.fast_path_note} | {again.fast_path_note}"
    )
