"""A real, throwaway PostgreSQL 15 cluster for tests: initdb + pg_ctl on a free loopback port.

Use `postgres_cluster()` as a context manager anywhere, or the `postgres_url` fixture (import it
into a conftest). Without PostgreSQL installed the fixture skips, unless CI=true: then it fails.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("LIFECYCLE_PG_BIN", "/usr/lib/postgresql/15/bin"))
OS_USER = "postgres"


def postgres_available() -> str | None:
    """None when a cluster can be started here, else the reason it cannot."""
    for tool in ("initdb", "pg_ctl"):
        if not (PG_BIN / tool).is_file():
            return f"PostgreSQL 15 not installed ({PG_BIN / tool} missing)"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam(OS_USER)
        except KeyError:
            return f"running as root but there is no {OS_USER!r} OS user to run the server"
    return None


def _free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_owner(cmd: list[str]) -> list[str]:
    """Run as the postgres OS user when we are root (the server refuses to run as root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", OS_USER, "--", *cmd]
    return cmd


@contextmanager
def postgres_cluster(db: str = "test") -> Iterator[str]:
    """Start a fresh cluster, create a database, yield its SQLAlchemy URL, then remove it all."""
    reason = postgres_available()
    if reason:
        raise RuntimeError(reason)
    tmp = Path(tempfile.mkdtemp(prefix="pgtest-"))
    data, sock = tmp / "data", tmp / "sock"
    sock.mkdir()
    if os.geteuid() == 0:
        shutil.chown(tmp, OS_USER)
        shutil.chown(sock, OS_USER)
        tmp.chmod(0o700)
    port = _free_port()
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    started = False
    try:
        subprocess.run(
            _as_owner(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    OS_USER,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-sync",
                ]
            ),
            **run,  # type: ignore[call-overload]
        )
        opts = (
            f"-h 127.0.0.1 -p {port} -k {sock} -c fsync=off -c full_page_writes=off "
            "-c max_connections=50 -c shared_buffers=32MB"
        )
        subprocess.run(
            _as_owner(
                [
                    *(str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", opts),
                    *("-l", str(tmp / "log"), "-w", "-t", "60", "start"),
                ]
            ),
            **run,  # type: ignore[call-overload]
        )
        started = True
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={port} user={OS_USER} dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{db}"')
        yield f"postgresql+psycopg://{OS_USER}@127.0.0.1:{port}/{db}"
    except subprocess.CalledProcessError as err:
        log = (tmp / "log").read_text() if (tmp / "log").is_file() else ""
        raise RuntimeError(
            f"PostgreSQL failed: {' '.join(err.cmd)}\n{err.stdout}\n{err.stderr}\n{log}"
        ) from None
    finally:
        if started:
            subprocess.run(
                _as_owner([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL of a real PostgreSQL started for this test session."""
    reason = postgres_available()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but PostgreSQL cannot start: {reason}")
        pytest.skip(reason)
    with postgres_cluster() as url:
        yield url
