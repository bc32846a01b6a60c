"""`lifecycle server start|status|stop`: a real background server, reused, then stopped."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lifecycle.commands.flows import server_app
from lifecycle.system import free_port
from tests.support.prefect import pytest_env

pytestmark = pytest.mark.slow


def test_server_starts_in_the_background_is_reused_and_stops(tmp_path: Path) -> None:
    """Start writes a pid file and a log; a second start reuses it; stop ends the process.

    Its own server, not the session's: starting and stopping one is what it tests."""
    cli = CliRunner()
    port = str(free_port())
    with pytest_env(LIFECYCLE_HOME=str(tmp_path), PREFECT_SERVER_PORT=port, PREFECT_API_URL=None):
        try:
            first = cli.invoke(server_app, ["start"])
            assert first.exit_code == 0, first.output
            assert f"http://127.0.0.1:{port}" in first.output
            state = json.loads((tmp_path / ".prefect" / "server.json").read_text())
            assert (tmp_path / ".prefect" / "server.log").is_file()
            again = cli.invoke(server_app, ["start"])
            assert again.exit_code == 0 and f"pid {state['pid']}" in again.output
            up = cli.invoke(server_app, ["status"])
            assert up.exit_code == 0 and up.output.startswith("up:")
        finally:
            stopped = cli.invoke(server_app, ["stop"])
        assert stopped.output.strip() == "stopped"
        with pytest.raises(ProcessLookupError):
            os.kill(state["pid"], 0)
        down = cli.invoke(server_app, ["status"])
        assert down.exit_code == 1 and down.output.startswith("down:")
