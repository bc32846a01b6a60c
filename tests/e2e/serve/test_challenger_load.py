"""Canary and shadow together on a real uvicorn under concurrent clients."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from lifecycle.privacy import project_key, pseudonym_of
from tests.e2e.serve.conftest import Server, launch
from tests.e2e.serve.test_load import holdout_records
from tests.integration.serve.project import Project, environment, register_copy

pytestmark = pytest.mark.slow

VIEWER = "e2e-viewer-token-81f"
SHARE = 0.25
CUSTOMERS = 400
CLIENTS = 6
DURATION = 8.0


@pytest.fixture
def challenger_server(project: Project) -> Iterator[Server]:
    """A server with a 25% canary and shadow scoring on, a second version as @challenger."""
    from lifecycle.paths import Paths
    from lifecycle.registry import set_challenger

    version = register_copy(project)
    with environment(project.env):
        set_challenger(Paths(project.root), project.params.mlflow.model_name, version)
    raw: dict[str, Any] = yaml.safe_load((project.root / "params.yaml").read_text())
    raw["serving"].update(canary_share=SHARE, shadow=True)
    params = project.root / "params-challenger.yaml"
    params.write_text(yaml.safe_dump(raw, sort_keys=False))
    extra = {"LIFECYCLE_PARAMS": str(params), "LIFECYCLE_VIEWER_TOKEN": VIEWER}
    pids: list[int] = []
    for srv in launch(project, extra):
        pids.append(srv.process.pid)
        yield srv
    # the hot-swap test counts every API line of the shared project: take this server's out
    for pid in pids:
        for f in (project.root / "data" / "predictions").rglob(f"predictions-{pid}.jsonl"):
            f.unlink()


def client_loop(url: str, rows: list[dict[str, Any]], stop: threading.Event,
                out: list[tuple[str, int, str | None]], seed: int) -> None:  # fmt: skip
    """Post one customer's record at a time; note (customer, status, variant)."""
    rng = random.Random(seed)
    with httpx.Client(timeout=30) as http:
        while not stop.is_set():
            row = rng.choice(rows)
            r = http.post(f"{url}/predict", json=row)
            variant = r.json()["predictions"][0]["variant"] if r.status_code == 200 else None
            out.append((str(row["customer_id"]), r.status_code, variant))


def test_canary_and_shadow_under_load(challenger_server: Server) -> None:
    """All answered; sticky per customer; share near 25%; per-variant metrics; shadow logged."""
    srv = challenger_server
    base = holdout_records(srv)
    rows = [{**base[i % len(base)], "customer_id": f"E2E-{i:04d}"} for i in range(CUSTOMERS)]
    viewer = {"Authorization": f"Bearer {VIEWER}"}
    deadline = time.monotonic() + 60
    while httpx.get(f"{srv.url}/canary", headers=viewer).json()["challenger"]["version"] is None:
        assert time.monotonic() < deadline, "challenger not loaded"
        time.sleep(0.2)
    stop = threading.Event()
    seen: list[tuple[str, int, str | None]] = []
    threads = [threading.Thread(target=client_loop, args=(srv.url, rows, stop, seen, i))
               for i in range(CLIENTS)]  # fmt: skip
    for t in threads:
        t.start()
    time.sleep(DURATION)
    stop.set()
    for t in threads:
        t.join(60)

    assert len(seen) > 300 and all(status == 200 for _, status, _ in seen)
    by_customer: dict[str, set[str | None]] = defaultdict(set)
    for cust, _, variant in seen:
        by_customer[cust].add(variant)
    assert all(len(v) == 1 for v in by_customer.values())  # sticky
    canary_customers = sum(v == {"canary"} for v in by_customer.values()) / len(by_customer)
    assert abs(canary_customers - SHARE) < 0.06, canary_customers
    served = Counter(v for _, _, v in seen)
    metrics = httpx.get(f"{srv.url}/metrics", headers=viewer).text
    for variant in ("champion", "canary"):
        line = (
            f'lifecycle_variant_predictions_total{{variant="{variant}"}} {float(served[variant])}'
        )
        assert line in metrics, (line, served)
    assert httpx.get(f"{srv.url}/shadow").status_code == 401
    live = httpx.get(f"{srv.url}/shadow", headers=viewer).json()["live"]
    assert live["records"]["scored"] > 0, live
    assert httpx.get(f"{srv.url}/canary", headers=viewer).json()["stepped_back"] is None

    output = srv.stop()
    assert VIEWER not in output
    lines = [json.loads(x) for f in Path(srv.project.root, "data", "predictions").rglob("*.jsonl")
             for x in f.open()]  # fmt: skip
    key = project_key(Path(srv.project.root))  # the log keeps ids as pseudonyms (issue 17)
    sent = {pseudonym_of(f"E2E-{i:04d}", key) for i in range(CUSTOMERS)}
    mine = [x for x in lines if x.get("customer_id") in sent]
    assert len(mine) == len(seen)  # nothing lost, canary and shadowed lines included
    assert Counter(x["variant"] for x in mine) == served
    shadowed = [x for x in mine if "shadow_score" in x]
    assert shadowed and all(x["variant"] == "champion" for x in shadowed)
    assert all(0 <= x["shadow_score"] <= 1 for x in shadowed)
