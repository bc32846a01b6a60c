"""Typer command functions `serve` and `score` (registered as `lifecycle serve` / `score`).

Environment: LIFECYCLE_HOST (default 127.0.0.1), LIFECYCLE_PORT (default 8000),
LIFECYCLE_ADMIN_TOKEN (operator bearer token of /admin/*; unset = admin disabled),
LIFECYCLE_VIEWER_TOKEN (once set, /model, /shadow, /canary and /metrics need it), LIFECYCLE_HOME,
LIFECYCLE_PARAMS, MLFLOW_TRACKING_URI, MLFLOW_UI_URL (for the run link of GET /model),
LIFECYCLE_TRIGGER (why the service runs, in its ledger entries: `serve` sets manual if unset).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Annotated, Any

import typer

from lifecycle.env import apply_offline_defaults
from lifecycle.paths import Paths
from lifecycle.registry import RegistryError
from lifecycle.serve.threads import one_model_thread
from lifecycle.settings import get_settings

ParamsOpt = Annotated[
    Path | None,
    typer.Option("--params", help="params file (default: LIFECYCLE_PARAMS or ./params.yaml)"),
]


def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default: LIFECYCLE_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default: LIFECYCLE_PORT)")] = None,
    workers: Annotated[int, typer.Option(min=1, help="uvicorn worker processes")] = 1,
    params: ParamsOpt = None,
) -> None:
    """Serve models:/<name>@champion over HTTP under a supervisor that restarts dead workers.

    This process binds the socket and supervises the workers (uvicorn's Multiprocess, even
    for one worker): a worker that dies is started again within about half a second, and a
    worker takes no request before its model is loaded (connections wait in the socket's
    backlog meanwhile, or go to the other workers). See docs/serving-durability.md.
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    apply_offline_defaults()
    one_model_thread()
    if params is not None:
        os.environ["LIFECYCLE_PARAMS"] = str(params)
    # started by hand unless whoever started it said why (its workers read this, as settings)
    os.environ.setdefault("LIFECYCLE_TRIGGER", "manual")
    os.environ["LIFECYCLE_SERVE_LOAD_FIRST"] = "true"  # the workers' lifespans wait for a model
    config = uvicorn.Config(
        "lifecycle.serve.app:app_from_env",
        factory=True,
        host=host or get_settings().host,
        port=port or get_settings().port,
        workers=workers,
        timeout_graceful_shutdown=30,
        log_level=get_settings().log_level.lower(),
    )
    Multiprocess(config, sockets=[no_delay(config.bind_socket())]).run()


def no_delay(sock: socket.socket) -> socket.socket:
    """The listening socket with Nagle's algorithm off, which its connections inherit.

    uvicorn's bound socket has protocol 0, so asyncio does not set TCP_NODELAY on the connections
    it accepts; an answer then waits for the client's delayed ACK: 40 ms a request, 22 req/s on
    one connection instead of about 1,000 (benchmarks/serving_durability.py).
    """
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def score(
    file: Annotated[Path, typer.Argument(help="CSV or Parquet file of records to score")],
    out: Annotated[Path | None, typer.Option(help="write scores here (.csv or .parquet)")] = None,
    model: Annotated[str, typer.Option(help="alias or version number")] = "champion",
    params: ParamsOpt = None,
) -> None:
    """Score a file offline with the serving model; every row goes to the prediction log."""
    # lazy: lifecycle.config builds its pydantic models at import, too slow for `--help`
    from lifecycle.config import ConfigError, load_params
    from lifecycle.serve.batch import BatchInputError, score_file

    apply_offline_defaults()
    try:
        p = load_params(params)
        result = score_file(p, Paths.from_env(), file, out, model)
    except (ConfigError, RegistryError, BatchInputError) as err:
        typer.secho(str(err), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(_summary(result))


def _summary(result: Any) -> str:
    """One line of what was scored."""
    where = f" -> {result.out}" if result.out else ""
    return (
        f"scored {result.rows} rows with {result.model_name} v{result.model_version} "
        f"(request {result.request_id}, {result.positives} labelled positive){where}"
    )
