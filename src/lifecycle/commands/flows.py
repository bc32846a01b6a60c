"""`lifecycle server start|stop|status` and `lifecycle flow <name>` (prefect imported on use)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlparse

import typer

from lifecycle.orchestration import progress, server
from lifecycle.paths import Paths
from lifecycle.registry import tracking_uri
from lifecycle.settings import get_settings

FLOWS: dict[str, str] = {
    "ingest": "lifecycle.orchestration.flows_ingest:ingest_flow",
    "train": "lifecycle.orchestration.flows_train:train_flow",
    "monitor": "lifecycle.orchestration.flows_monitor:monitor_flow",
    "retrain": "lifecycle.orchestration.flows_retrain:retrain_flow",
    "lifecycle": "lifecycle.orchestration.flows_lifecycle:lifecycle_flow",
    "retention": "lifecycle.orchestration.flows_privacy:retention_flow",
}

server_app = typer.Typer(
    help="The project's local Prefect server (PREFECT_HOME=<root>/.prefect).",
    no_args_is_help=True,
)
PortOpt = Annotated[int | None, typer.Option("--port", help="default: PREFECT_SERVER_PORT or 4200")]
ParamsOpt = Annotated[
    Path | None, typer.Option("--params", help="default: LIFECYCLE_PARAMS or ./params.yaml")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="the whole result as JSON on stdout")]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="no progress bar (none either when not a terminal)")
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


def run_flow(name: str, quiet: bool = False, **parameters: Any) -> tuple[Any, str]:
    """Run a flow in this process against the project's server; its result and UI URL."""
    with progress.steps(f"{name}: starting", quiet=quiet) as bar:
        found = server.use_server(Paths.from_env())
        flow = load_flow(name)
        with progress.follow_flows(bar):
            state = flow(return_state=True, **parameters)
    url = f"{found.ui_url}/runs/flow-run/{state.state_details.flow_run_id}"
    return state.result(), url


def ui_lines(prefect_run_url: str) -> list[str]:
    """Where to look next, with the ports this environment uses (not the defaults)."""
    settings = get_settings()
    port = urlparse(settings.mlflow_ui_url).port or 5000
    uri = tracking_uri(Paths.from_env())
    return [
        f"Prefect UI: {prefect_run_url}",
        f"MLflow UI:  {settings.mlflow_ui_url} (start it: MLFLOW_UI_PORT={port} make ui, or "
        f"uv run mlflow ui --backend-store-uri {uri} --host 127.0.0.1 --port {port})",
        f"Service:    http://{settings.host}:{settings.port} (start it: uv run lifecycle serve)",
    ]


def flow_run(
    name: Annotated[str, typer.Argument(help=" | ".join(FLOWS))],
    params: ParamsOpt = None,
    month: Annotated[int | None, typer.Option(help="monitor: the simulated month")] = None,
    scenario: Annotated[str | None, typer.Option(help="monitor: a simulation scenario")] = None,
    as_json: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run one flow against the local Prefect server (started if none answers)."""
    kwargs: dict[str, Any] = {"params_file": str(params) if params else None}
    if name in ("monitor", "lifecycle"):
        kwargs.update(month=month, scenario=scenario)
    result, url = run_flow(name, quiet=quiet, **kwargs)
    if as_json:
        from lifecycle.orchestration.results import to_json

        typer.echo(to_json(result))
        return
    typer.echo(f"{name}:")
    typer.echo(result.summary())
    typer.echo(f"Prefect UI: {url}")


def run_lifecycle(
    params: Path | None, month: int | None, scenario: str | None, quiet: bool = False
) -> None:
    """The Prefect path of `lifecycle run`: the whole loop, then the UIs and the run's cost."""
    result, url = run_flow(
        "lifecycle",
        quiet=quiet,
        params_file=str(params) if params else None,
        month=month,
        scenario=scenario,
    )
    typer.echo(result.summary())
    for line in ui_lines(url):
        typer.echo(line)
    typer.echo("Ledger:     `lifecycle ledger report` for every run")
