"""Fixtures shared by the ledger's integration and e2e tests: params, a root, SQLite, PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lifecycle.config import Params, load_params
from lifecycle.ledger.session import dispose_engines
from tests.support.postgres import postgres_url

PARAMS_FILE = Path(__file__).resolve().parents[2] / "params.yaml"
__all__ = ["postgres_url"]


@pytest.fixture(scope="session")
def params() -> Params:
    """The repository's params.yaml, validated."""
    return load_params(PARAMS_FILE)


@pytest.fixture(autouse=True)
def project_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty project root per test; pooled connections closed afterwards."""
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.setenv("LIFECYCLE_HOME", str(root))
    monkeypatch.setenv("LIFECYCLE_PARAMS", str(PARAMS_FILE))
    monkeypatch.delenv("LIFECYCLE_LEDGER_URL", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    yield root
    dispose_engines()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite ledger file."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture
def pg_url(postgres_url: str) -> Iterator[str]:
    """The session's PostgreSQL with the ledger tables emptied for this test."""
    from sqlalchemy import create_engine, text

    engine = create_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS ledger_staff_lines, ledger_entries"))
    engine.dispose()
    return postgres_url


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes this runs once on SQLite and once on a real PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    return str(request.getfixturevalue(name))
