"""Training with a candidate that does not converge and with a budget nobody meets (real MLflow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.config import Params, load_params
from lifecycle.config.convergence import ConvergenceParams
from lifecycle.convergence import NoConvergedCandidateError
from lifecycle.features import split
from lifecycle.ingest import ingest
from lifecycle.paths import Paths
from lifecycle.registry import client
from lifecycle.train import train
from lifecycle.validate import validate_reference
from tests.support.project import FAST_CANDIDATE, fast_params_raw, write_project

pytestmark = pytest.mark.slow
STUBBORN = {"name": "stubborn", "family": "logistic_regression", "params": {"max_iter": 1}}


def test_an_unconverged_candidate_is_tagged_and_never_selected(project: Path) -> None:
    """max_iter=1 warns: tagged not_converged, the other is registered; no budget left: error."""
    write_project(project, fast_params_raw(candidates=[STUBBORN, FAST_CANDIDATE]))
    params, paths = load_params(project / "params.yaml"), Paths(project)
    ingest(params.data, params.simulation, paths)
    validate_reference(params, paths)
    split(params, paths)

    result = train(params, paths)
    assert result.candidate == "logreg"
    by_name = {c.name: c for c in result.candidates}
    assert by_name["stubborn"].convergence == "not_converged"
    assert by_name["logreg"].convergence == "converged"
    tags = client(paths).get_run(by_name["stubborn"].run_id).data.tags
    assert tags["convergence.status"] == "not_converged"
    assert tags["convergence.reason"].startswith("ConvergenceWarning")

    broke: Params = params.model_copy(
        update={"convergence": ConvergenceParams(max_cpu_seconds=1e-6)}
    )
    with pytest.raises(NoConvergedCandidateError, match="stubborn: over_budget") as err:
        train(broke, paths)
    assert "logreg: over_budget (over budget after cross-validation" in str(err.value)
    experiment = client(paths).get_run(result.run_id).info.experiment_id
    stopped = client(paths).search_runs(
        [experiment], filter_string="tags.`convergence.status` = 'over_budget'"
    )
    assert sorted(r.data.tags["candidate"] for r in stopped) == ["logreg", "stubborn"]
