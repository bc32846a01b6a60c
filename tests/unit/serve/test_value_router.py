"""/value and /value/api/data: the page's data from a real ledger, the viewer role enforced."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from lifecycle.config import Params
from lifecycle.serve.routers import value
from lifecycle.serve.routers.viewer import LedgerSource
from lifecycle.value.store import ESTIMATED, ValueEntry, record


def _app(params: Params, url: str, viewer: str | None = None) -> TestClient:
    app = FastAPI()
    app.state.ledger = LedgerSource(params, url, viewer, None)
    app.include_router(value.router)
    return TestClient(app)


def test_page_and_data_show_the_estimate_band_and_verdicts(params: Params, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    when = datetime(2026, 11, 3, tzinfo=UTC)
    record(ValueEntry(
        model_name=params.mlflow.model_name, period="sim-month_01-none", period_start=when,
        period_end=when, model_version="1", status=ESTIMATED, rows=500, labelled_rows=0,
        contacted=100, calibration="none", est_value_usd=9000.0, est_value_low=8000.0,
        est_value_high=10000.0,
    ), url)  # fmt: skip
    client = _app(params, url)
    page = client.get("/value")
    assert page.status_code == 200 and "estimate's band" in page.text
    data = client.get("/value/api/data").json()
    [period] = data["periods"]
    assert (period["low"], period["estimated"], period["high"]) == (8000.0, 9000.0, 10000.0)
    assert period["realized"] is None
    assert data["verdicts"]["1"] == "v1 earns 9,000 USD a month net of its costs (partly estimated)"


def test_viewer_token_is_required_once_set(params: Params, tmp_path: Path) -> None:
    client = _app(params, f"sqlite:///{tmp_path / 'ledger.db'}", viewer="s3cret")
    assert client.get("/value/api/data").status_code == 401
    ok = client.get("/value/api/data", headers={"Authorization": "Bearer s3cret"})
    assert ok.status_code == 200 and ok.json()["months"] == []
