"""One process, several projects: each `client(paths)` points MLflow at that project's own store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from lifecycle.paths import Paths
from lifecycle.registry import client, keep_environment, tracking_uri
from lifecycle.store_seed import seed_sqlite_store


def test_a_second_project_is_not_pinned_to_the_first_projects_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow exports the URI it is given; read back as the user's, it pinned later projects."""
    import mlflow

    for name in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID"):
        monkeypatch.delenv(name, raising=False)
    first, second = Paths(tmp_path / "a"), Paths(tmp_path / "b")
    client(first)
    client(second)
    assert tracking_uri(second) == f"sqlite:///{second.mlflow_db}"
    assert mlflow.get_tracking_uri() == f"sqlite:///{second.mlflow_db}"
    assert "MLFLOW_TRACKING_URI" not in os.environ


def test_a_store_the_user_chose_wins_over_the_project_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLFLOW_TRACKING_URI set by the user stays the store, and stays set."""
    chosen = f"sqlite:///{tmp_path / 'shared.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", chosen)
    client(Paths(tmp_path / "a"))
    assert tracking_uri(Paths(tmp_path / "b")) == chosen
    assert os.environ["MLFLOW_TRACKING_URI"] == chosen


def test_keep_environment_undoes_writes_and_new_names(monkeypatch: pytest.MonkeyPatch) -> None:
    """A variable set before is restored, one that did not exist is removed."""
    monkeypatch.setenv("LIFECYCLE_TEST_KEPT", "before")
    monkeypatch.delenv("LIFECYCLE_TEST_NEW", raising=False)
    with keep_environment(("LIFECYCLE_TEST_KEPT", "LIFECYCLE_TEST_NEW")):
        os.environ["LIFECYCLE_TEST_KEPT"] = "after"
        os.environ["LIFECYCLE_TEST_NEW"] = "x"
    assert os.environ["LIFECYCLE_TEST_KEPT"] == "before"
    assert "LIFECYCLE_TEST_NEW" not in os.environ


def _schema_and_rows(db: Path) -> tuple[list[tuple[str, str]], dict[str, list[tuple[object, ...]]]]:
    import sqlite3

    with sqlite3.connect(db) as con:
        # as sorted clauses: MLflow's own migrations write a table's CHECK constraints in an
        # order that varies from one run to the next (a set's order)
        found = con.execute("select name, sql from sqlite_master where sql is not null")
        schema = sorted(
            (name, "\n".join(sorted(line.strip().rstrip(",") for line in sql.splitlines())))
            for name, sql in found
        )
        tables = [n for (n,) in con.execute("select name from sqlite_master where type='table'")]
        rows = {t: sorted(map(tuple, con.execute(f'select * from "{t}"'))) for t in tables}
    return schema, rows


def test_a_fresh_store_is_seeded_with_what_mlflow_makes_itself(tmp_path: Path) -> None:
    """The copy holds MLflow's own schema, revision and rows; MLflow then opens it as its own."""
    from mlflow.tracking import MlflowClient

    templates = tmp_path / "templates"
    seeded, made = tmp_path / "seeded.db", tmp_path / "made.db"
    assert seed_sqlite_store(f"sqlite:///{seeded}", templates)
    MlflowClient(tracking_uri=f"sqlite:///{made}").search_experiments()  # MLflow's own path
    made_schema, made_rows = _schema_and_rows(made)
    seeded_schema, seeded_rows = _schema_and_rows(seeded)
    assert seeded_schema == made_schema
    assert seeded_rows["alembic_version"] == made_rows["alembic_version"]
    assert not seeded_rows["experiments"]  # the default experiment is MLflow's to add, on open
    c = MlflowClient(tracking_uri=f"sqlite:///{seeded}")
    assert [e.name for e in c.search_experiments()] == ["Default"]
    assert c.get_experiment(c.create_experiment("x")).name == "x"
    assert _schema_and_rows(seeded)[0] == made_schema
    assert {k: v for k, v in _schema_and_rows(seeded)[1].items() if k != "experiments"} == {
        k: v for k, v in made_rows.items() if k != "experiments"
    }


def test_seeding_never_touches_an_existing_store_or_another_kind(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"not empty")
    assert not seed_sqlite_store(f"sqlite:///{existing}", templates)
    assert existing.read_bytes() == b"not empty"
    assert not seed_sqlite_store("postgresql://u@localhost/mlflow", templates)
    assert not seed_sqlite_store("sqlite:///:memory:", templates)
    assert not seed_sqlite_store(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}", templates)
    assert not templates.exists()  # nothing was made for them
    assert seed_sqlite_store(f"sqlite:///{tmp_path / 'fresh.db'}", templates)
    assert len(list(templates.iterdir())) == 1  # the template, no temporary file left
