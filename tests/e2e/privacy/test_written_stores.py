"""No raw id in any store the project writes outside the raw data, after serving (champion,
canary, shadow), outcomes, offline scoring and monitoring; then `forget` erases one person."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.privacy import KEY_FILE, project_key, pseudonym_of
from tests.integration.serve.project import Project, copy_project, register_copy

pytestmark = pytest.mark.slow

ROWS = 300
# what keeps ids as they came, by the raw-data rule of docs/privacy.md
RAW = ("data/raw", "data/batches", "data/validated", "data/processed", "data/reference")


def _texts(path: Path) -> Iterator[str]:
    """A file's content as text: SQLite rows dumped, parquet cells, else the bytes."""
    if path.suffix in (".db", ".sqlite") or path.read_bytes()[:16] == b"SQLite format 3\x00":
        with closing(sqlite3.connect(path)) as con:
            yield from con.iterdump()
    elif path.suffix == ".parquet":
        yield pd.read_parquet(path).astype(str).to_csv()
    else:
        yield path.read_bytes().decode("utf-8", errors="replace")


def _found(root: Path, ids: set[str], skip: tuple[str, ...]) -> dict[str, int]:
    """Files under root (outside `skip`) holding any of the ids, with how many they hold."""
    hits: dict[str, int] = {}
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = f.relative_to(root).as_posix()
        if rel.startswith(skip) or rel.endswith(("-wal", "-shm")) or rel == KEY_FILE:
            continue
        text = "".join(_texts(f))
        n = sum(1 for i in ids if i in text)
        if n:
            hits[rel] = n
    return hits


def _distinct_ids(root: Path, column: str) -> None:
    """The copy's ids as text no report can hold by chance (the table's are 1 to 7043, which
    any count or figure may contain), like the real table's "7590-VHVEG"."""
    for folder in RAW:
        for f in (root / folder).rglob("*.parquet"):
            frame = pd.read_parquet(f)
            frame[column] = [f"CUST{int(v):05d}Q" for v in frame[column]]
            frame.to_parquet(f, index=False)


@pytest.fixture
def served(
    serving_template: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Project, list[str]]:
    """A copy of the trained project that served ids (champion, canary, shadow), got their
    outcomes, scored a file offline and monitored its log; the ids it served."""
    from fastapi.testclient import TestClient

    from lifecycle.monitor.run import monitor_window
    from lifecycle.paths import Paths
    from lifecycle.registry import client
    from lifecycle.serve.app import create_app
    from lifecycle.serve.batch import score_file
    from lifecycle.serve.state import ServeSettings
    from tests.integration.serve.conftest import wait_ready

    project = copy_project(serving_template, tmp_path / "project")
    for key, value in project.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("LIFECYCLE_PSEUDONYM_KEY", raising=False)  # the local mode's key file
    monkeypatch.delenv("LIFECYCLE_ENV", raising=False)
    p, paths = project.params, Paths(project.root)
    _distinct_ids(project.root, p.data.id_column)
    client(paths).set_registered_model_alias(
        p.mlflow.model_name, "challenger", register_copy(project)
    )
    batch = pd.read_parquet(paths.batch(1)).head(ROWS)
    ids = [str(x) for x in batch[p.data.id_column]]
    feats = batch[[p.data.id_column, *p.data.features]].astype(object)
    records = feats.where(feats.notna(), None).to_dict("records")
    params = p.model_copy(
        update={"serving": p.serving.model_copy(update={"shadow": True, "canary_share": 0.5})}
    )
    with TestClient(create_app(ServeSettings(params, paths, "op"))) as c:
        wait_ready(c)
        state = c.app.state.service  # type: ignore[attr-defined]
        deadline = time.monotonic() + 60
        while state.challenger.current is None and time.monotonic() < deadline:
            time.sleep(0.05)
        outcomes = []
        for start in range(0, ROWS, 50):
            r = c.post("/predict", json=records[start : start + 50])
            assert r.status_code == 200, r.text
            body = r.json()
            outcomes += [
                {"request_id": body["request_id"], "record": x["record"], "outcome": str(o)}
                for x, o in zip(
                    body["predictions"], batch[p.data.target][start : start + 50], strict=True
                )
            ]
        while state.shadow.pending and time.monotonic() < deadline + 60:
            time.sleep(0.05)  # the shadow's lines are written too before the app closes
        assert c.post("/feedback", json=outcomes, headers={"Authorization": "Bearer op"}).is_success
    score_file(p, paths, paths.batch(1), tmp_path / "scores.parquet")
    monitor_window(p, paths, log_mlflow=True)
    return project, ids


def test_no_raw_id_outside_the_raw_data_and_forget_erases_one(
    served: tuple[Project, list[str]],
) -> None:
    """The ids are in data/raw (the scan finds them), nowhere else; the log joins by pseudonym."""
    from lifecycle.config import load_params
    from lifecycle.forget import forget
    from lifecycle.paths import Paths
    from lifecycle.predictions import labelled

    project, ids = served
    root, wanted = Path(project.root), set(ids)
    assert _found(root, wanted, ())["data/raw/snapshot.parquet"] == len(wanted)  # the scan works
    assert _found(root, wanted, RAW) == {}

    key = project_key(root)
    log = labelled(Paths(root))
    variants = set(log["variant"].dropna())
    assert variants == {"champion", "canary"}, variants
    assert log["shadow_score"].notna().any()  # shadowed lines are in the scan too
    assert set(log[project.params.data.id_column].dropna()) == {pseudonym_of(i, key) for i in ids}
    assert log["outcome"].notna().sum() == len(ids)  # outcomes still join their predictions
    assert (root / "reports" / "drift").is_dir()

    who = ids[0]
    result = forget(load_params(root / "params.yaml"), Paths(root), who)
    assert result.removed["prediction_lines"] >= 1 and result.removed["feedback_lines"] == 1
    assert result.removed["data_rows"] == 2  # the snapshot and its month's batch
    assert _found(root, {who, pseudonym_of(who, key)}, ("ledger.db",)) == {}
    assert _found(root, {who}, ()) == {}
    notes = json.dumps([r for r in _texts(root / "ledger.db") if "erasure of" in r])
    assert pseudonym_of(who, key) in notes and who not in notes
