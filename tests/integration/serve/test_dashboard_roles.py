"""The ledger dashboard takes the viewer (or operator) token once a viewer token is set."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lifecycle.config import load_params


@pytest.fixture
def dashboard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A dashboard on a free loopback port, tokens from the environment."""
    from lifecycle.ledger.dashboard import make_server

    monkeypatch.setenv("LIFECYCLE_VIEWER_TOKEN", "viewer-5e1")
    monkeypatch.setenv("LIFECYCLE_ADMIN_TOKEN", "operator-9a2")
    server = make_server(load_params(), f"sqlite:///{tmp_path / 'ledger.db'}", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()


def basic(password: str) -> dict[str, str]:
    """A browser's Basic header carrying the token as the password."""
    return {"Authorization": "Basic " + base64.b64encode(f"me:{password}".encode()).decode()}


def test_dashboard_needs_a_token_when_a_viewer_token_is_set(dashboard: str) -> None:
    """None: 401 asking for Basic; unknown: 403; viewer or operator, Bearer or Basic: 200."""
    none = httpx.get(f"{dashboard}/api/data")
    assert none.status_code == 401 and none.headers["www-authenticate"].startswith("Basic")
    assert httpx.get(dashboard, headers={"Authorization": "Bearer nope"}).status_code == 403
    assert httpx.get(dashboard, headers=basic("nope")).status_code == 403
    for token in ("viewer-5e1", "operator-9a2"):
        r = httpx.get(f"{dashboard}/api/data", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and "error" not in r.json()
        assert httpx.get(dashboard, headers=basic(token)).status_code == 200


def test_dashboard_stays_open_without_a_viewer_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No LIFECYCLE_VIEWER_TOKEN: open, as before (the operator token alone does not close it)."""
    from lifecycle.ledger.dashboard import env_tokens, make_server

    monkeypatch.delenv("LIFECYCLE_VIEWER_TOKEN", raising=False)
    monkeypatch.setenv("LIFECYCLE_ADMIN_TOKEN", "operator-9a2")
    assert env_tokens() == ()
    server = make_server(load_params(), f"sqlite:///{tmp_path / 'ledger.db'}", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host, port = server.server_address[:2]
    try:
        assert httpx.get(f"http://{host!s}:{port}/").status_code == 200
    finally:
        server.shutdown()
        server.server_close()
