"""Failures: a bad batch is quarantined and stops the loop; a crash mid-training moves no alias."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.paths import Paths
from lifecycle.validate import ValidationFailedError
from tests.integration.flows.conftest import Trained
from tests.integration.flows.support import in_project, ledger_entries, write_params
from tests.support.project import fast_params_raw

pytestmark = pytest.mark.slow


def _registry(root: Path) -> tuple[dict[str, str], int, int]:
    """Aliases, model versions and MLflow runs of a project."""
    from lifecycle.registry import client

    c = client(Paths(root))
    model = c.get_registered_model("telco-churn")
    versions = c.search_model_versions("name = 'telco-churn'")
    runs = c.search_runs([c.get_experiment_by_name("telco-churn").experiment_id], max_results=500)
    return {a: str(v) for a, v in model.aliases.items()}, len(versions), len(runs)


def _copy(trained: Trained, dest: Path) -> Path:
    """A copy of the trained project to break without touching the shared one."""
    shutil.copytree(trained.root, dest, ignore=shutil.ignore_patterns(".prefect"))
    return dest


def test_a_batch_that_fails_validation_is_quarantined_and_trains_nothing(
    api: str, trained: Trained, tmp_path: Path
) -> None:
    """The loop fails with the broken rule named; quarantine holds the batch; registry unchanged."""
    from lifecycle.orchestration.flows_lifecycle import lifecycle_flow

    root = _copy(trained, tmp_path / "project")
    bad = pd.read_parquet(root / "data" / "raw" / "snapshot.parquet")
    bad.loc[bad.index[:400], "tenure"] = -5
    bad.to_csv(root / "bad.csv", index=False)
    raw = fast_params_raw()
    raw["data"]["source"] = "bad.csv"
    write_params(root, raw)
    before = _registry(root)
    with in_project(root), pytest.raises(ValidationFailedError, match=r"'tenure'.*between 0"):
        lifecycle_flow()
    assert (root / "data" / "quarantine" / "reference" / "result.json").is_file()
    assert _registry(root) == before
    failed = [e for e in ledger_entries(root) if e.status == "failed" and e.name == "ingest"]
    assert len(failed) == 1
    assert [s.activity for s in failed[0].staff] == ["validation_triage"]
    assert not [e for e in ledger_entries(root) if e.name == "train" and e.status == "failed"]


def test_a_crash_in_the_middle_of_training_moves_no_alias(
    api: str, trained: Trained, tmp_path: Path
) -> None:
    """One candidate fits and logs its run, the next one fails: no version, no alias moves."""
    from lifecycle.orchestration.flows_train import train_flow

    root = _copy(trained, tmp_path / "project")
    write_params(
        root,
        fast_params_raw(
            [
                {"name": "logreg", "family": "logistic_regression", "params": {"C": 0.5}},
                # passes the load-time checks (any string), raises at fit: no such solver
                {
                    "name": "broken",
                    "family": "logistic_regression",
                    "params": {"solver": "no_such_solver"},
                },
            ]
        ),
    )
    aliases, versions, runs = _registry(root)
    with in_project(root), pytest.raises(ValueError, match="solver"):
        train_flow()
    after_aliases, after_versions, after_runs = _registry(root)
    assert after_aliases == aliases and after_versions == versions
    assert after_runs >= runs  # the good candidate may have logged its run before the crash
    entry = next(e for e in ledger_entries(root) if e.name == "train" and e.status == "failed")
    assert "solver" in (entry.error or "")
    statuses = _runs_by_status(root)
    assert statuses.get("RUNNING", []) == []  # no sibling left running
    assert statuses.get("FAILED") == ["broken"], statuses  # the raising candidate's run, FAILED


def _runs_by_status(root: Path) -> dict[str, list[str]]:
    """Candidate run names of a project's experiment, by MLflow status."""
    from lifecycle.registry import client

    c = client(Paths(root))
    runs = c.search_runs([c.get_experiment_by_name("telco-churn").experiment_id], max_results=500)
    found: dict[str, list[str]] = {}
    for run in runs:
        found.setdefault(run.info.status, []).append(str(run.data.tags.get("candidate")))
    return found


def test_a_run_whose_params_do_not_load_still_has_one_failed_row(
    api: str, trained: Trained, tmp_path: Path
) -> None:
    """An invalid params value fails the flow at once, and the ledger has its row, priced."""
    from lifecycle.config import ConfigError
    from lifecycle.orchestration.flows_train import train_flow

    root = _copy(trained, tmp_path / "project")
    raw = fast_params_raw()
    raw["train"]["cv_folds"] = "many"
    write_params(root, raw)
    before = {e.key for e in ledger_entries(root)}
    with in_project(root), pytest.raises(ConfigError, match="cv_folds"):
        train_flow()
    (row,) = [e for e in ledger_entries(root) if e.key not in before]
    assert (row.kind, row.name, row.status) == ("flow", "train", "failed")
    assert "cv_folds" in (row.error or "")
    assert row.compute_usd > 0 and row.links["prefect_flow_run_id"]
