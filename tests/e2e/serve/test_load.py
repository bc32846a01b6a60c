"""Load on a real uvicorn while the champion moves: no failure, right versions, full log."""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.serve.conftest import TOKEN, Server
from tests.integration.serve.project import environment, register_copy

pytestmark = pytest.mark.slow

CLIENTS = 8
DURATION = 14.0


@dataclass(frozen=True)
class Answer:
    """One request as the client saw it."""

    started: float
    ended: float
    status: int
    version: str | None
    predictions: int
    well_formed: bool


def holdout_records(server: Server) -> list[dict[str, object]]:
    """Real records to send."""
    import pandas as pd

    frame = pd.read_parquet(server.project.root / "data" / "processed" / "holdout.parquet")
    feats = frame[list(server.project.params.data.features)].astype(object)
    return [
        {str(k): v for k, v in r.items()}
        for r in feats.where(feats.notna(), None).to_dict("records")
    ]


def check(body: dict[str, object], sent: int) -> bool:
    """Every prediction has a score in [0, 1], a label, and the response's version."""
    preds = body.get("predictions")
    version = body.get("model_version")
    if not isinstance(preds, list) or len(preds) != sent or not body.get("request_id"):
        return False
    return all(
        0 <= p["score"] <= 1 and p["label"] in ("Yes", "No") and p["model_version"] == version
        for p in preds
    )


def client_loop(
    url: str, records: list[dict[str, object]], stop: threading.Event, out: list[Answer], seed: int
) -> None:
    """Post one record (or a few) as fast as answers come, until told to stop."""
    rng = random.Random(seed)
    with httpx.Client(timeout=30) as http:
        while not stop.is_set():
            n = 1 if rng.random() < 0.8 else rng.randint(2, 20)
            batch = rng.sample(records, n)
            started = time.monotonic()
            try:
                r = http.post(f"{url}/predict", json=batch[0] if n == 1 else batch)
                body = r.json() if r.status_code == 200 else {}
                ok = r.status_code == 200 and check(body, n)
                out.append(Answer(started, time.monotonic(), r.status_code,
                                  body.get("model_version"), n if ok else 0, ok))  # fmt: skip
            except httpx.HTTPError:
                out.append(Answer(started, time.monotonic(), 0, None, 0, False))


def test_hot_swap_under_load(server: Server) -> None:
    """3 promotions and a rollback under 8 concurrent clients: zero failures, right versions."""
    from lifecycle.paths import Paths
    from lifecycle.registry import promote

    project = server.project
    paths = Paths(project.root)
    records = holdout_records(server)
    logged_before = _api_lines(project.root)  # earlier tests' answers in the shared project
    auth = {"Authorization": f"Bearer {TOKEN}"}
    # spans[v] = (champion since, replaced-and-reloaded at): the times v may legitimately answer
    spans: list[tuple[str, float, float]] = []
    current, since = "1", time.monotonic()
    stop = threading.Event()
    answers: list[Answer] = []
    threads = [
        threading.Thread(target=client_loop, args=(server.url, records, stop, answers, i))
        for i in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    started = time.monotonic()
    for step in range(4):
        time.sleep(2.5)
        moved = time.monotonic()
        if step < 3:
            new = register_copy(project)
            with environment(project.env):
                promote(paths, project.params.mlflow.model_name, new)
            r = httpx.post(f"{server.url}/admin/reload", headers=auth, timeout=60)
        else:
            r = httpx.post(f"{server.url}/admin/rollback", headers=auth, timeout=60)
        assert r.status_code == 200, r.text
        new = r.json()["model_version"]
        spans.append((current, since, time.monotonic()))
        current, since = new, moved
    time.sleep(max(0.0, DURATION - (time.monotonic() - started)))
    stop.set()
    for t in threads:
        t.join(60)
    spans.append((current, since, float("inf")))

    assert len(answers) > 200
    failed = [a for a in answers if a.status != 200 or not a.well_formed]
    assert not failed, failed[:5]
    wrong = [
        a for a in answers
        if not any(v == a.version and s <= a.ended and a.started <= e for v, s, e in spans)
    ]  # fmt: skip
    assert not wrong, (wrong[:5], spans)
    served = {a.version for a in answers}
    assert len(served) >= 4, (served, spans)  # the swaps were seen by the clients

    output = server.stop()
    assert TOKEN not in output
    answered = sum(a.predictions for a in answers)
    logged = _api_lines(project.root) - logged_before  # the project is shared by this folder
    assert logged == answered, (logged, answered)


def _api_lines(root: Path) -> int:
    """Prediction-log lines the API wrote in the project so far."""
    logged = 0
    for f in Path(root, "data", "predictions").rglob("*.jsonl"):
        logged += sum(1 for line in f.open() if json.loads(line)["source"] == "api")
    return logged
