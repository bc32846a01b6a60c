"""`lifecycle server start|stop|status` and `lifecycle flow <name>` (prefect imported on use)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated, Any

import typer

from lifecycle.orchestration import server
from lifecycle.paths import Paths
from lifecycle.registry import tracking_uri

FLOWS: dict[str, str] = {
    "ingest": "lifecycle.orchestration.flows_ingest:ingest_flow",
    "train": "lifecycle.orchestration.flows_train:train_flow",
    "monitor": "lifecycle.orchestration.flows_monitor:monitor_flow",
    "retrain": "lifecycle.orchestration.flows_retrain:retrain_flow",
    "lifecycle": "lifecycle.orchestration.flows_lifecycle:lifecycle_flow",
}

server_app = typer.Typer(
    help="The project's local Prefect server (PREFECT_HOME=<root>/.prefect).",
    no_args_is_help=True,
)
PortOpt = Annotated[int | None, typer.Option("--port", help="default: PREFECT_SERVER_PORT or 4200")]
ParamsOpt = Annotated[
    Path | None, typer.Option("--params", help="default: LIFECYCLE_PARAMS or ./params.yaml")
]


def _fail(message: str) -> None:
    """Print a clear error and exit 1."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


@server_app.command("start")
def server_start(port: PortOpt = None) -> None:
    """Start the server in the background (logs in .prefect/server.log), or reuse a running one."""
    try:
        found = server.start(Paths.from_env(), port)
    except server.ServerError as err:
        _fail(str(err))
        return
    owner = f"pid {found.pid}" if found.pid else "already running"
    typer.echo(f"Prefect server at {found.ui_url} ({owner})")
    typer.echo(f"  export PREFECT_API_URL={found.api_url}")


@server_app.command("stop")
def server_stop() -> None:
    """Stop the server this project started."""
    stopped = server.stop(Paths.from_env())
    typer.echo("stopped" if stopped else "no server of this project was running")


@server_app.command("status")
def server_status(port: PortOpt = None) -> None:
    """Where the server is and whether it answers (exit 1 when it does not)."""
    found = server.status(Paths.from_env(), port)
    state = "up" if found.healthy else "down"
    who = f", pid {found.pid}" if found.pid else ("" if found.managed else ", not started here")
    typer.echo(f"{state}: {found.api_url}{who}")
    if not found.healthy:
        raise typer.Exit(1)


def load_flow(name: str) -> Any:
    """A flow object by its short name."""
    if name not in FLOWS:
        raise typer.BadParameter(f"{name!r}: one of {sorted(FLOWS)}")
    module, attr = FLOWS[name].split(":")
    return getattr(importlib.import_module(module), attr)


def run_flow(name: str, **parameters: Any) -> tuple[Any, str]:
    """Run a flow in this process against the project's server; its result and UI URL."""
    found = server.use_server(Paths.from_env())
    flow = load_flow(name)
    state = flow(return_state=True, **parameters)
    url = f"{found.ui_url}/runs/flow-run/{state.state_details.flow_run_id}"
    return state.result(), url


def flow_run(
    name: Annotated[str, typer.Argument(help="ingest | train | monitor | retrain | lifecycle")],
    params: ParamsOpt = None,
    month: Annotated[int | None, typer.Option(help="monitor: the simulated month")] = None,
    scenario: Annotated[str | None, typer.Option(help="monitor: a simulation scenario")] = None,
) -> None:
    """Run one flow against the local Prefect server (started if none answers)."""
    kwargs: dict[str, Any] = {"params_file": str(params) if params else None}
    if name in ("monitor", "lifecycle"):
        kwargs.update(month=month, scenario=scenario)
    result, url = run_flow(name, **kwargs)
    typer.echo(f"{name}: {type(result).__name__}")
    typer.echo(f"Prefect UI: {url}")


def run_lifecycle(params: Path | None, month: int | None, scenario: str | None) -> None:
    """The Prefect path of `lifecycle run`: the whole loop, then the UIs and the run's cost."""
    result, url = run_flow(
        "lifecycle",
        params_file=str(params) if params else None,
        month=month,
        scenario=scenario,
    )
    total = result.total
    typer.echo(f"champion: v{result.champion_version}")
    typer.echo(f"monitor: {result.monitor.window}: {result.monitor.verdict}")
    if result.retrain is not None:
        typer.echo(f"retrained: {result.retrain.train.reason}")
    typer.echo(f"Prefect UI: {url}")
    uri = tracking_uri(Paths.from_env())
    typer.echo(f"MLflow UI:  uv run mlflow ui --backend-store-uri {uri} --port 5000")
    typer.echo(
        f"Ledger:     ${total.total_usd:,.4f} for this run "
        f"(compute ${total.compute_usd:.4f}, staff ${total.staff_usd:,.2f}; "
        "`lifecycle ledger report` for all)"
    )
