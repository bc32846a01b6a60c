"""The Prefect server on PostgreSQL: a flow run against it lands in PostgreSQL's tables."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from lifecycle.paths import Paths
from lifecycle.scaleout import async_url
from tests.integration.scaleout.conftest import Stack
from tests.support.s3 import BIN, free_port

pytestmark = pytest.mark.slow
PROBE = """
from prefect import flow

@flow(name="scaleout-probe")
def probe() -> int:
    return 42

print("probe returned", probe())
"""


def test_flow_run_lands_in_postgres(stack: Stack, tmp_path: Path) -> None:
    """Its own server, not the session's: it must be backed by PostgreSQL, not SQLite."""
    from lifecycle.orchestration import server

    paths = Paths(tmp_path)
    db_env = {"PREFECT_API_DATABASE_CONNECTION_URL": async_url(stack.db("prefect"))}
    old = {k: os.environ.get(k) for k in (*db_env, "PREFECT_API_URL")}
    os.environ.update(db_env)
    os.environ.pop("PREFECT_API_URL", None)
    try:
        found = server.start(paths, free_port(), timeout=300)
        script = tmp_path / "probe.py"
        script.write_text(PROBE)
        env = {**os.environ, "PREFECT_API_URL": found.api_url, "PREFECT_HOME": str(tmp_path)}
        done = subprocess.run(
            [str(BIN / "python"), str(script)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "probe returned 42" in done.stdout
    finally:
        server.stop(paths)
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    engine = sa.create_engine(stack.db("prefect"))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "select f.name, r.state_type from flow_run r join flow f on f.id = r.flow_id"
                )
            ).all()
    finally:
        engine.dispose()
    assert ("scaleout-probe", "COMPLETED") in {(r[0], str(r[1])) for r in rows}
