"""One real Prefect server for the whole test session, and the environment helpers around it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lifecycle.paths import Paths
from lifecycle.system import free_port


@contextmanager
def pytest_env(**values: str | None) -> Iterator[None]:
    """Set (or, with None, unset) environment variables for the block."""
    old = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def prefect_server(home_root: Path) -> Iterator[str]:
    """A real `prefect server start` on a free port, via the project's own server manager."""
    from lifecycle.orchestration import server

    paths = Paths(home_root)
    with pytest_env(PREFECT_API_URL=None):
        found = server.start(paths, free_port(), timeout=240)
    try:
        yield found.api_url
    finally:
        server.stop(paths)


@contextmanager
def use_api(api_url: str, home: Path) -> Iterator[None]:
    """Point this process (already-imported Prefect included) and its children at a server."""
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    _drain_services()
    try:
        with (
            pytest_env(PREFECT_API_URL=api_url, PREFECT_HOME=str(home)),
            temporary_settings(updates={PREFECT_API_URL: api_url, PREFECT_HOME: str(home)}),
        ):
            yield
            _drain_services()
    finally:
        _drain_services()


@contextmanager
def shared_server(home_root: Path) -> Iterator[str]:
    """A server started once and this process pointed at it: the session's `prefect_api`."""
    with prefect_server(home_root) as url, use_api(url, home_root / ".prefect"):
        yield url


def _drain_services() -> None:
    """Stop Prefect's cached event and log senders: they keep the server URL they started with."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    EventsWorker.drain_all(timeout=10)
    APILogWorker.drain_all(timeout=10)
