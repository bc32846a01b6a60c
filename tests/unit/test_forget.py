"""`forget`: one person's rows leave every store, once; the ledger keeps the count, not the id."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.config import load_params
from lifecycle.forget import forget
from lifecycle.ledger.queries import iter_entries
from lifecycle.paths import Paths
from lifecycle.privacy import project_key, pseudonym_of
from lifecycle.serve.outcomes import OutcomeStore

WHO, OTHER = "7590-VHVEG", "5575-GNVDE"


def _stores(root: Path) -> Paths:
    """A log with both people (one line each, plus an old raw-id line), their outcomes, and
    DVC-tracked data holding the raw ids."""
    paths, key = Paths(root), project_key(root)
    day = paths.predictions / "date=2026-11-30"
    day.mkdir(parents=True)
    lines = [
        {"request_id": "r1", "record": 0, "customer_id": pseudonym_of(WHO, key), "score": 0.1},
        {"request_id": "r1", "record": 1, "customer_id": pseudonym_of(OTHER, key), "score": 0.2},
        {"request_id": "r2", "record": 0, "customer_id": WHO, "score": 0.3},  # before masking
    ]
    (day / "predictions-1.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    store = OutcomeStore(paths)
    store.record([{"request_id": "r1", "record": 0, "outcome": "Yes"},
                  {"request_id": "r1", "record": 1, "outcome": "No"}], by="test")  # fmt: skip
    store.correct("r1", 0, "No", "typo", by="test")
    frame = pd.DataFrame({"customer_id": [WHO, OTHER], "tenure": [1, 2]})
    for f in (paths.snapshot, paths.batch(1), paths.train_set):
        f.parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(f, index=False)
    return paths


def test_forget_erases_every_store_once_and_prices_it(project: Path) -> None:
    """Lines, outcomes, index rows and data rows of one id go; the other person stays."""
    paths = _stores(project)
    params = load_params(project / "params.yaml")
    first = forget(params, paths, WHO)
    assert first.removed == {"feedback_lines": 2, "outcome_index_rows": 2, "prediction_lines": 2,
                             "simulation_rows": 0, "data_rows": 3}  # fmt: skip
    rewritten = ["data/batches/month_01.parquet", "data/processed/train.parquet",
                 "data/raw/snapshot.parquet"]  # fmt: skip
    assert sorted(first.data_files) == rewritten
    left = (paths.predictions / "date=2026-11-30" / "predictions-1.jsonl").read_text()
    assert WHO not in left and first.pseudonym not in left and "r1" in left
    feedback = "".join(f.read_text() for f in (paths.data / "feedback").rglob("*.jsonl"))
    assert [json.loads(x)["record"] for x in feedback.splitlines()] == [1]
    with sqlite3.connect(paths.data / "feedback" / "outcomes.sqlite") as con:
        assert con.execute("SELECT request_id, record FROM outcomes").fetchall() == [("r1", 1)]
        assert con.execute("SELECT count(*) FROM corrections").fetchone() == (0,)
    assert pd.read_parquet(paths.snapshot)["customer_id"].tolist() == [OTHER]

    again = forget(params, paths, WHO)  # idempotent: nothing left, the earlier erasure found
    assert again.total == 0 and again.earlier is not None and again.known
    unknown = forget(params, paths, "no-such-person")
    assert not unknown.known

    entries = [e for e in iter_entries() if e.name == "forget"]
    assert len(entries) == 3 and all(e.status == "succeeded" for e in entries)
    assert all(WHO not in (e.note or "") for e in entries)
    assert entries[0].note is not None and first.pseudonym in entries[0].note
    assert [s.activity for s in entries[0].staff] == ["erasure_request"]
    assert entries[0].staff[0].hours == pytest.approx(0.5)
