"""The scale-out stack, for real on loopback: PostgreSQL, moto's S3 server, an MLflow server."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lifecycle.scaleout import ScaleOut, database_url, mlflow_server_argv
from tests.support.postgres import postgres_available, postgres_cluster
from tests.support.s3 import BIN, free_port, s3_server

ARTIFACT_BUCKET = "lifecycle-mlflow"
DVC_BUCKET = "lifecycle-dvc"
DATABASES = ("mlflow", "ledger", "prefect")


@dataclass(frozen=True)
class Stack:
    """Endpoints of the running services."""

    postgres: str  # URL of the (empty) database the cluster was made with
    s3_endpoint: str
    mlflow_url: str
    logs: Path

    def db(self, name: str) -> str:
        """The SQLAlchemy URL of one of DATABASES."""
        return database_url(self.postgres, name)

    def scaleout(self) -> ScaleOut:
        """The project's scale-out settings for this stack."""
        return ScaleOut(
            mlflow_url=self.mlflow_url, ledger_url=self.db("ledger"), s3_endpoint=self.s3_endpoint
        )


def _create_databases(url: str) -> None:
    """One database per service on the same cluster."""
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    with psycopg.connect(
        host=u.host, port=u.port, user=u.username, dbname=u.database, autocommit=True
    ) as conn:
        for name in DATABASES:
            conn.execute(f'CREATE DATABASE "{name}"')


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float, log: Path) -> None:
    """Block until url answers 200; fail with the server's log when it dies or times out."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: server exited {proc.returncode}\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url}: no answer in {timeout} s\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """PostgreSQL (mlflow, ledger, prefect databases), moto S3 and `mlflow server` on top."""
    reason = postgres_available()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but PostgreSQL cannot start: {reason}")
        pytest.skip(reason)
    logs = tmp_path_factory.mktemp("scaleout-logs")
    with (
        postgres_cluster("bootstrap") as pg,
        s3_server((ARTIFACT_BUCKET, DVC_BUCKET), log=logs / "moto.log") as endpoint,
    ):
        _create_databases(pg)
        port = free_port()
        argv = mlflow_server_argv(
            database_url(pg, "mlflow"), f"s3://{ARTIFACT_BUCKET}/", port=port, workers=1
        )
        log = logs / "mlflow.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(BIN / argv[0]), *argv[1:]],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "MLFLOW_S3_ENDPOINT_URL": endpoint},
            )
            try:
                url = f"http://127.0.0.1:{port}"
                _wait_http(f"{url}/health", proc, timeout=300, log=log)
                yield Stack(pg, endpoint, url, logs)
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
