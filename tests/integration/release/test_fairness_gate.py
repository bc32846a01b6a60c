"""A candidate trained to be biased is blocked by the fairness gate, figures in the reason."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from lifecycle.config import Params
from lifecycle.environments import ReleaseError, promote_staging, version_in
from lifecycle.evaluate import evaluate
from lifecycle.paths import Paths
from lifecycle.promote import apply_decision
from lifecycle.registry import client
from lifecycle.train import train

pytestmark = pytest.mark.slow


def test_biased_candidate_is_blocked(release_project: Callable[..., tuple[Params, Paths]]) -> None:
    params, paths = release_project()
    attribute = params.fairness.sensitive[0]
    # the training labels follow the sensitive attribute: the model learns to target one group
    train_set = pd.read_parquet(paths.train_set)
    labels = params.validation.target_labels
    positive = str(params.data.positive_label)
    negative = next(str(x) for x in labels if str(x) != positive)
    train_set[params.data.target] = [positive if v == 1 else negative for v in train_set[attribute]]
    train_set.to_parquet(paths.train_set, index=False)

    result = train(params, paths)
    run = client(paths).get_run(result.run_id)
    assert run.data.tags["fairness.passed"] == "false"
    assert run.data.metrics[f"fairness_{attribute}_selection_rate_ratio"] < 0.4
    local = mlflow.artifacts.download_artifacts(
        run_id=result.run_id, artifact_path="fairness/report.json"
    )
    logged = json.loads(Path(local).read_text())
    assert not logged["passed"] and logged["attributes"][0]["attribute"] == attribute

    decision = evaluate(params, paths)
    assert not decision.promote
    assert decision.reason.startswith(f"blocked: fairness gate: {attribute}: selection-rate ratio")
    figures = decision.fairness
    assert figures is not None
    ratio = figures["attributes"][0]["selection_rate_ratio"]
    assert f"ratio {ratio:.2f} < {params.fairness.min_selection_ratio:.2f}" in decision.reason
    assert "%" in decision.reason  # the group rates themselves are named

    apply_decision(decision, params, paths)  # returns str(champion): "None" here
    assert version_in(params, paths, "staging") is None
    assert version_in(params, paths, "production") is None
    with pytest.raises(ReleaseError, match="failed the fairness gate"):
        promote_staging(params, paths, result.version)
