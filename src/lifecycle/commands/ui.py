"""`lifecycle ui`: the MLflow UI on the project's store, priced as platform cost when it stops."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

import typer

from lifecycle.paths import Paths


def ui(
    port: Annotated[
        int | None,
        typer.Option("--port", help="port to listen on (default: the port of MLFLOW_UI_URL)"),
    ] = None,
    host: Annotated[str, typer.Option("--host", help="address to bind")] = "127.0.0.1",
) -> None:
    """The MLflow UI until Ctrl-C; its CPU and wall time go to the ledger as platform cost."""
    from lifecycle.ledger.platform import run_platform
    from lifecycle.registry import tracking_uri
    from lifecycle.settings import get_settings

    settings = get_settings()
    port = port or urlparse(settings.mlflow_ui_url).port or 5000
    paths = Paths.from_env()
    mlflow = Path(sys.executable).with_name("mlflow")
    cmd = [str(mlflow), "ui", "--backend-store-uri", tracking_uri(paths),
           "--host", host, "--port", str(port), "--workers", "1"]  # fmt: skip
    typer.echo(f"MLflow UI: http://{host}:{port} (Ctrl-C stops it; its cost goes to the ledger)")
    code = run_platform("mlflow-ui", cmd, cwd=paths.root)
    if code not in (None, 0, -2, -15):  # stopped by Ctrl-C or SIGTERM counts as a clean end
        raise typer.Exit(code)
