"""Training, the registry aliases and promotion, against a real temporary MLflow store."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from lifecycle.config import Params, load_params
from lifecycle.evaluate import evaluate
from lifecycle.features import model_inputs, split
from lifecycle.ingest import ingest
from lifecycle.paths import Paths
from lifecycle.promote import apply_decision
from lifecycle.registry import (
    CHALLENGER,
    CHAMPION,
    PREVIOUS,
    RegistryError,
    client,
    require_alias,
    rollback,
    version_by_alias,
)
from lifecycle.train import train
from lifecycle.validate import validate_reference
from lifecycle.versioning import dvc_md5

pytestmark = pytest.mark.slow


def _prepare(project: Path) -> tuple[Params, Paths]:
    params, paths = load_params(project / "params.yaml"), Paths(project)
    ingest(params.data, params.simulation, paths)
    validate_reference(params, paths)
    split(params, paths)
    return params, paths


def _alias(paths: Paths, params: Params, alias: str) -> str | None:
    found = version_by_alias(paths, params.mlflow.model_name, alias)
    return None if found is None else str(found.version)


def test_train_evaluate_promote_rollback(project: Path) -> None:
    params, paths = _prepare(project)
    name = params.mlflow.model_name
    with pytest.raises(RegistryError, match="no version with alias 'champion'"):
        require_alias(paths, name, CHAMPION)

    first = train(params, paths)
    assert first.version == "1" and not first.reused
    assert _alias(paths, params, CHALLENGER) == "1"
    run = client(paths).get_run(first.run_id)
    assert run.data.tags["data_version"] == dvc_md5(paths.validated)
    assert run.data.tags["params_hash"] and run.data.tags["git_commit"]
    for metric in ("roc_auc", "pr_auc", "log_loss", "brier", "f1", "profit"):
        assert f"holdout_{metric}" in run.data.metrics and f"cv_{metric}" in run.data.metrics
    report = json.loads(paths.train_report.read_text())
    assert report["version"] == "1"

    # the logged model enforces its signature: a wrong type is refused by MLflow itself
    model = mlflow.pyfunc.load_model(f"models:/{name}/1")
    holdout = pd.read_parquet(paths.holdout_set)
    good = model_inputs(holdout, params.data).head(3)
    assert len(model.predict(good)) == 3
    bad = good.assign(**{params.data.categorical[0]: [1, 2, 3]})
    with pytest.raises(MlflowException):
        model.predict(bad)

    decision = evaluate(params, paths)
    assert decision.promote and "no champion yet" in decision.reason
    assert apply_decision(decision, params, paths) == "1"
    assert _alias(paths, params, CHAMPION) == "1"
    assert json.loads(paths.promotion.read_text())["champion_after"] == "1"
    assert json.loads(paths.metrics.read_text())["champion_version"] == 1
    assert (paths.plots / "gain.json").is_file()

    # same data, same params: the version is reused, nothing is promoted, nothing fails
    again = train(params, paths)
    assert again.reused and again.version == "1"
    repeat = evaluate(params, paths)
    assert not repeat.promote and "already the champion" in repeat.reason
    apply_decision(repeat, params, paths)
    assert _alias(paths, params, CHAMPION) == "1"

    # a different model (other hyperparameters) is a new version; it must beat the margin
    other = params.train.candidates[0].model_copy(update={"params": {"C": 0.001, "max_iter": 300}})
    weaker = params.model_copy(
        update={"train": params.train.model_copy(update={"candidates": (other,)})}
    )
    second = train(weaker, paths)
    assert second.version == "2" and _alias(paths, params, CHALLENGER) == "2"
    verdict = evaluate(weaker, paths)
    assert verdict.champion_version == "1" and verdict.bootstrap is not None
    assert verdict.promote == (verdict.bootstrap.lower > params.promotion.margin)

    # force a promotion of v2, then roll back in one step
    from lifecycle.registry import promote

    move = promote(paths, params.mlflow.model_name, "2")
    assert move.previous == "1" and _alias(paths, params, PREVIOUS) == "1"
    back = rollback(paths, params.mlflow.model_name)
    assert back.champion == "1" and _alias(paths, params, CHAMPION) == "1"
    assert _alias(paths, params, PREVIOUS) is None
    tags = client(paths).get_model_version(params.mlflow.model_name, "2").tags
    assert tags["rolled_back"] == "true"
    with pytest.raises(RegistryError, match="no @previous version"):
        rollback(paths, params.mlflow.model_name)


def test_evaluate_without_challenger_is_a_clear_error(project: Path) -> None:
    params, paths = _prepare(project)
    with pytest.raises(RegistryError, match="no version with alias 'challenger'"):
        evaluate(params, paths)
