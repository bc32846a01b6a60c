"""Behavioural tests on a real registered version (pipeline and its ONNX export) and the gate."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lifecycle.behaviour import run_checks
from lifecycle.config import Params, load_params
from lifecycle.config.behaviour import Directional
from lifecycle.evaluate import Decision, weigh_behaviour
from lifecycle.paths import Paths
from lifecycle.registry import client
from tests.integration.serve.project import Project, copy_project, environment

pytestmark = pytest.mark.slow


def _decision() -> Decision:
    """A decision that would promote version 1."""
    return Decision(True, "gain 12.0", "m", "1", None, "profit", {}, None, None, "now")


def test_the_default_tests_pass_and_a_broken_expectation_blocks(
    serving_template: Project, tmp_path: Path
) -> None:
    """Defaults pass on the trained logreg (ONNX compared); a reversed direction fails, named."""
    project = copy_project(serving_template, tmp_path / "project")
    params: Params = load_params(project.root / "params.yaml")
    paths = Paths(project.root)
    with environment(project.env):
        holdout = pd.read_parquet(paths.holdout_set)
        report = run_checks(params, paths, "1", holdout)
        kinds = {c.kind for c in report.checks}
        assert kinds == {"invariance", "directional", "slice", "edge"}, report.reason
        assert report.passed, report.reason
        onnx = next(c for c in report.checks if c.name == "onnx")
        assert "max_gap" in onnx.figures, onnx.detail
        tags = client(paths).get_run(project.run_id).data.tags
        assert tags["behaviour.passed"] == "true"
        assert weigh_behaviour(_decision(), report).promote

        wrong = Directional(column="contract", direction="not_decrease", tolerance=0.0,
                            order=("Month-to-month", "One year", "Two year"))  # fmt: skip
        spec = params.behaviour.model_copy(update={"directional": (wrong,), "slices": ()})
        failing = run_checks(params.model_copy(update={"behaviour": spec}), paths, "1", holdout)
        assert not failing.passed
        blocked = weigh_behaviour(_decision(), failing)
        assert not blocked.promote
        assert blocked.reason.startswith("blocked: behavioural tests failed: directional contract")
        assert blocked.behaviour is not None and blocked.behaviour["passed"] is False
        assert client(paths).get_run(project.run_id).data.tags["behaviour.passed"] == "false"
    for c in report.checks:
        print(f"{c.kind:12} {c.name:32} {c.passed} {c.detail}")
