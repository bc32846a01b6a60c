"""The ledger's fixtures (one copy, in tests/support/ledger_fixtures.py)."""

from tests.support.ledger_fixtures import (
    PARAMS_FILE,
    ledger_url,
    params,
    pg_url,
    postgres_url,
    project_root,
    sqlite_url,
)

__all__ = [
    "PARAMS_FILE",
    "ledger_url",
    "params",
    "pg_url",
    "postgres_url",
    "project_root",
    "sqlite_url",
]
