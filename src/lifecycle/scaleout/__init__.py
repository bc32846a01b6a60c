"""Scale-out mode by configuration alone: the environment and commands that point the project at
PostgreSQL, an S3-compatible store, an MLflow tracking server, a Prefect server and a Dask cluster.

Nothing here starts anything: these functions only spell out the settings, so the runbook, the
Makefile and the integration test use one definition of "scale-out mode".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScaleOut:
    """Where each shared service lives; None leaves that part embedded."""

    mlflow_url: str
    ledger_url: str
    s3_endpoint: str | None = None
    prefect_api_url: str | None = None
    dask_address: str | None = None

    def env(self) -> dict[str, str]:
        """The variables that switch the CLI, flows and server to the shared services."""
        found = {
            "MLFLOW_TRACKING_URI": self.mlflow_url,
            "LIFECYCLE_LEDGER_URL": self.ledger_url,
        }
        if self.s3_endpoint:
            # boto3 (MLflow client, when artifacts are not proxied) and s3fs (DVC) read these
            found["MLFLOW_S3_ENDPOINT_URL"] = self.s3_endpoint
            found["AWS_ENDPOINT_URL"] = self.s3_endpoint
        if self.prefect_api_url:
            found["PREFECT_API_URL"] = self.prefect_api_url
        if self.dask_address:
            found["DASK_SCHEDULER_ADDRESS"] = self.dask_address
        return found


def mlflow_server_argv(
    backend_uri: str,
    artifacts_uri: str,
    host: str = "127.0.0.1",
    port: int = 5000,
    workers: int = 1,
) -> list[str]:
    """`mlflow server` proxying artifacts, so clients need the server's URL and no S3 secret."""
    return [
        *("mlflow", "server", "--backend-store-uri", backend_uri),
        *("--artifacts-destination", artifacts_uri, "--serve-artifacts"),
        *("--host", host, "--port", str(port), "--workers", str(workers)),
    ]


def dvc_remote_argvs(name: str, url: str, endpoint: str | None = None) -> list[list[str]]:
    """The `dvc remote` commands that make an S3 bucket the default remote (credentials: env)."""
    argvs = [["dvc", "remote", "add", "--force", "--default", name, url]]
    if endpoint:
        argvs.append(["dvc", "remote", "modify", name, "endpointurl", endpoint])
    return argvs


def database_url(server_url: str, database: str) -> str:
    """The URL of one database on a PostgreSQL server given by the URL of any of its databases."""
    from sqlalchemy.engine import make_url

    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def async_url(url: str) -> str:
    """The asyncpg form of a PostgreSQL URL (Prefect's server needs an async driver)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
