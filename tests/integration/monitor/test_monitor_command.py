"""`lifecycle monitor` as a Typer command on a real project folder."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from lifecycle.commands.monitor import monitor
from lifecycle.config import Params
from lifecycle.paths import Paths


@pytest.fixture
def cli() -> typer.Typer:
    """A tiny app with only the monitor command, as cli.py will register it."""
    app = typer.Typer()
    app.command("monitor")(monitor)

    @app.command("noop")
    def _noop() -> None:
        """Keeps Typer in multi-command mode."""

    return app


def test_month_with_a_scenario_writes_both_reports(
    cli: typer.Typer, project: Paths, params: Params
) -> None:
    result = CliRunner().invoke(
        cli, ["monitor", "--month", "2", "--scenario", "contract_mix", "--no-mlflow"]
    )
    assert result.exit_code == 0, result.output
    assert "month_02-contract_mix: drift" in result.output
    out = project.reports / "drift"
    body = json.loads((out / "month_02-contract_mix.json").read_text())
    assert body["verdict"] == "drift"
    assert body["drifting_features"][0] == params.simulation.scenarios["contract_mix"].column
    assert (out / "month_02-contract_mix.html").read_text().count("<svg") >= 1


def test_an_unchanged_month_is_ok(cli: typer.Typer, project: Paths) -> None:
    result = CliRunner().invoke(cli, ["monitor", "--month", "3", "--no-mlflow"])
    assert result.exit_code == 0, result.output
    assert "month_03: ok" in result.output


def test_a_window_file_and_an_out_folder(cli: typer.Typer, project: Paths) -> None:
    out = project.root / "elsewhere"
    window = project.batch(1)
    result = CliRunner().invoke(cli, ["monitor", str(window), "--out", str(out), "--no-mlflow"])
    assert result.exit_code == 0, result.output
    assert (out / "month_01.json").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "1", "--scenario", "no_such"], "--scenario 'no_such': not one of"),
        (["--month", "99"], "--month 99: batch"),
        (["nowhere.parquet"], "window: 'nowhere.parquet' does not exist"),
        (["--month", "1", "--reference", "none.parquet"], "reference: file 'none.parquet'"),
    ],
)
def test_bad_input_is_a_clear_error(
    cli: typer.Typer, project: Paths, args: list[str], message: str
) -> None:
    result = CliRunner().invoke(cli, ["monitor", *args, "--no-mlflow"])
    assert result.exit_code == 1
    assert message in result.output


def test_reports_are_logged_to_mlflow(cli: typer.Typer, project: Paths, params: Params) -> None:
    import mlflow

    result = CliRunner().invoke(cli, ["monitor", "--month", "1", "--scenario", "price_increase"])
    assert result.exit_code == 0, result.output
    run_id = result.output.split("mlflow run: ")[1].split()[0]
    run = mlflow.MlflowClient(f"sqlite:///{project.root / 'mlflow.db'}").get_run(run_id)
    assert run.data.tags["verdict"] == "drift"
    assert run.data.tags["window"] == "month_01-price_increase"
    column = params.simulation.scenarios["price_increase"].column
    assert run.data.metrics[f"psi_{column}"] > params.drift.severe_psi
    client = mlflow.MlflowClient(f"sqlite:///{project.root / 'mlflow.db'}")
    names = sorted(a.path for a in client.list_artifacts(run_id, "drift"))
    assert names == ["drift/month_01-price_increase.html", "drift/month_01-price_increase.json"]
