"""`lifecycle simulate`: months of traffic through the service, monitored and retrained."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from lifecycle.paths import Paths


def simulate(
    months: Annotated[
        int | None,
        typer.Option("--months", help="months to replay (default: simulation.months)"),
    ] = None,
    scenario: Annotated[
        str,
        typer.Option("--scenario", help="a simulation.scenarios name, or 'none' for no drift"),
    ] = "none",
    drift_from: Annotated[
        int | None,
        typer.Option(
            "--drift-from", help="first month the scenario applies to (simulation.drift_from_month)"
        ),
    ] = None,
    retrain: Annotated[
        str,
        typer.Option(
            "--retrain",
            help="event: the drift event starts the retrain deployment on a process worker "
            "started here; inline: the monitor flow runs the retrain itself (no worker)",
        ),
    ] = "event",
    service_url: Annotated[
        str | None,
        typer.Option("--service-url", help="a running service (default: start one on loopback)"),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--retrain-timeout", help="seconds to wait for one retrain run")
    ] = 900.0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="no progress bar (none either when piped or CI)")
    ] = False,
    params_file: Annotated[
        Path | None,
        typer.Option(
            "--params",
            help="params file (default: LIFECYCLE_PARAMS, else params.yaml in LIFECYCLE_HOME "
            "or the current folder)",
        ),
    ] = None,
) -> None:
    """Replay the monthly batches through the service, monitor each month, print the table."""
    from lifecycle.config import ConfigError, load_params
    from lifecycle.simulate.plan import SimulationError, make_plan
    from lifecycle.simulate.results import MonthResult
    from lifecycle.simulate.table import render_table, usd

    if params_file is not None:  # the flows, the service and the worker read it from here
        os.environ["LIFECYCLE_PARAMS"] = str(params_file.resolve())
    seen: list[MonthResult] = []

    def show(row: MonthResult) -> None:
        seen.append(row)
        typer.echo(f"month {row.month}: {row.verdict}, champion v{row.champion}")

    try:
        params = load_params(params_file)
        plan = make_plan(params, months, scenario, drift_from, retrain)
        from lifecycle.simulate.loop import simulate as run

        result = run(
            params, Paths.from_env(), plan, service_url=service_url, retrain_timeout=timeout,
            on_month=show, quiet=quiet,
        )  # fmt: skip
    except (SimulationError, ConfigError) as err:
        if seen:
            typer.echo(render_table(seen))
        typer.secho(f"error: {err}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo("")
    typer.echo(render_table(result.months))
    drift = (
        f"scenario {plan.scenario} from month {plan.drift_from}" if plan.scenario else "no drift"
    )
    typer.echo(
        f"\n{drift}, retrain by {plan.retrain}: {result.retrains} retrain(s), "
        f"{result.promotions} promotion(s); champion v{result.start_champion} -> "
        f"v{result.months[-1].champion}; cost ${usd(sum(m.cost_usd for m in result.months))}"
    )
