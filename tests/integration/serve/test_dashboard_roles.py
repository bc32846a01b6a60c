"""The ledger dashboard inside the service takes the viewer role, Bearer or (for browsers) Basic."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from lifecycle.config import load_params
from lifecycle.ledger.session import dispose_engines

VIEWER, OPERATOR = "viewer-5e1", "operator-9a2"
PARAMS = Path(__file__).resolve().parents[3] / "params.yaml"


def service(root: Path, viewer: str | None) -> FastAPI:
    """The project's service app (lifespan not started: no model is needed for /ledger)."""
    from lifecycle.paths import Paths
    from lifecycle.serve.app import create_app
    from lifecycle.serve.state import ServeSettings

    settings = ServeSettings(load_params(PARAMS), Paths(root), OPERATOR, record_ledger=False,
                             viewer_token=viewer)  # fmt: skip
    return create_app(settings)


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty project whose default ledger is a fresh SQLite file."""
    monkeypatch.setenv("LIFECYCLE_HOME", str(tmp_path))
    monkeypatch.delenv("LIFECYCLE_LEDGER_URL", raising=False)
    yield tmp_path
    dispose_engines()


def basic(password: str) -> dict[str, str]:
    """A browser's Basic header carrying the token as the password."""
    return {"Authorization": "Basic " + base64.b64encode(f"me:{password}".encode()).decode()}


def bearer(token: str) -> dict[str, str]:
    """An API client's header."""
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("app_kind", ["service", "dashboard"])
def test_dashboard_needs_a_token_when_a_viewer_token_is_set(
    root: Path, monkeypatch: pytest.MonkeyPatch, app_kind: str
) -> None:
    """None: 401 asking for Basic; unknown: 403; viewer or operator, Bearer or Basic: 200."""
    from lifecycle.serve.routers.ledger import dashboard_app

    monkeypatch.setenv("LIFECYCLE_VIEWER_TOKEN", VIEWER)
    monkeypatch.setenv("LIFECYCLE_ADMIN_TOKEN", OPERATOR)
    app = service(root, VIEWER) if app_kind == "service" else dashboard_app(load_params(PARAMS))
    client = TestClient(app)
    none = client.get("/ledger/api/data")
    assert none.status_code == 401 and none.headers["www-authenticate"].startswith("Basic")
    assert client.get("/ledger", headers=bearer("nope")).status_code == 403
    assert client.get("/ledger", headers=basic("nope")).status_code == 403
    for token in (VIEWER, OPERATOR):
        r = client.get("/ledger/api/data", headers=bearer(token))
        assert r.status_code == 200 and r.json()["totals"]["entries"] == 0
        assert r.json()["forecast"]["refused"].startswith("no 12-month forecast: 0.0 days")
        assert client.get("/ledger", headers=basic(token)).status_code == 200
        js = client.get("/ledger/static/plotly.min.js", headers=basic(token))
        assert js.status_code == 200 and len(js.content) > 1_000_000


def test_dashboard_stays_open_without_a_viewer_token(root: Path) -> None:
    """No viewer token: open, like /model (the operator token alone does not close it)."""
    client = TestClient(service(root, None))
    page = client.get("/ledger")
    assert page.status_code == 200 and "Cost ledger" in page.text
    assert client.get("/ledger/api/data", params={"period": "3m"}).status_code == 200
    assert client.get("/ledger/api/data", params={"period": "decade"}).status_code == 422
