"""`lifecycle monitor`: check a window for drift and decay, write and log its reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def monitor(
    window: Annotated[
        Path | None,
        typer.Argument(
            help="a batch parquet, or a prediction log file or folder (default: data/predictions)"
        ),
    ] = None,
    month: Annotated[
        int | None, typer.Option("--month", help="check the simulated batch of this month")
    ] = None,
    scenario: Annotated[
        str | None,
        typer.Option("--scenario", help="apply a drift from simulation.scenarios to the window"),
    ] = None,
    reference: Annotated[
        Path | None,
        typer.Option("--reference", help="default: data/reference/reference.parquet"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="report folder (default: reports/drift)")
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="score reference and window with this registered alias or version "
            "(e.g. champion): enables score drift and performance",
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline", help="the champion's holdout metrics (default: reports/metrics.json)"
        ),
    ] = None,
    mlflow: Annotated[
        bool, typer.Option("--mlflow/--no-mlflow", help="log the reports to MLflow")
    ] = True,
    params_file: Annotated[
        Path | None,
        typer.Option("--params", help="params file (default: LIFECYCLE_PARAMS or ./params.yaml)"),
    ] = None,
) -> None:
    """Compare a window with the reference; write reports/drift/<window>.json and .html."""
    from lifecycle.config import ConfigError, load_params
    from lifecycle.ingest import SourceError
    from lifecycle.monitor.errors import MonitorError
    from lifecycle.monitor.run import monitor_window
    from lifecycle.paths import Paths

    try:
        params = load_params(params_file)
        outcome = monitor_window(
            params,
            Paths.from_env(),
            window,
            month=month,
            scenario=scenario,
            reference=reference,
            out=out,
            model=model,
            baseline=baseline,
            log_mlflow=mlflow,
        )
    except (MonitorError, ConfigError, SourceError) as err:
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    report = outcome.report
    color = typer.colors.GREEN if report.verdict == "ok" else typer.colors.YELLOW
    typer.secho(f"{report.window}: {report.verdict}", fg=color, bold=True)
    for reason in report.reasons:
        typer.echo(f"  - {reason}")
    typer.echo(f"report: {outcome.json_path}")
    typer.echo(f"html:   {outcome.html_path}")
    if outcome.mlflow_run_id:
        typer.echo(f"mlflow run: {outcome.mlflow_run_id}")
