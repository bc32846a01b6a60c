"""Ledger benchmark: metering overhead per run (target < 20 ms) and the dashboard's response
with 100,000 entries (target < 1 s). Run: uv run python benchmarks/ledger.py [--entries N]."""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from lifecycle.config import load_params
from lifecycle.ledger.meter import metered
from lifecycle.ledger.queries import write_many_rows
from lifecycle.ledger.session import writing
from lifecycle.paths import Paths
from lifecycle.serve.routers.ledger import dashboard_app
from lifecycle.system import free_port

REPO = Path(__file__).resolve().parents[1]


def metering_overhead_ms(root: Path, runs: int) -> list[float]:
    """Wall milliseconds of an empty metered block (start row, measures, priced final row)."""
    params = load_params(REPO / "params.yaml")
    paths = Paths(root)
    (root / "data" / "raw").mkdir(parents=True)
    for i in range(200):  # a realistic data/ folder to walk for storage growth
        (root / "data" / "raw" / f"part-{i}.parquet").write_bytes(b"x" * 1000)
    url = f"sqlite:///{root / 'ledger.db'}"
    out = []
    for i in range(runs + 20):
        t0 = time.perf_counter()
        with metered("task", "noop", "development", "manual", params=params, url=url, paths=paths):
            pass
        if i >= 20:  # the first runs pay for imports and the engine
            out.append((time.perf_counter() - t0) * 1000)
    return out


def dashboard_response_s(root: Path, entries: int, repeats: int) -> tuple[float, list[float]]:
    """Seconds to seed the ledger, then the /ledger/api/data response times (the service's app)."""
    import httpx
    import uvicorn

    sys.path.insert(0, str(REPO))
    from tests.e2e.ledger.seed import seeded_entries

    params = load_params(REPO / "params.yaml")
    url = f"sqlite:///{root / 'big.db'}"
    t0 = time.perf_counter()
    rows = seeded_entries(params, entries)
    with writing(url) as conn:
        for i in range(0, len(rows), 2000):
            write_many_rows(conn, rows[i : i + 2000])
    seeded = time.perf_counter() - t0
    port = free_port()
    config = uvicorn.Config(dashboard_app(params, url), port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    times = []
    with httpx.Client(timeout=60) as client:
        while not server.started:
            time.sleep(0.05)
        client.get(base + "/ledger").raise_for_status()
        for _ in range(repeats):
            t = time.perf_counter()
            client.get(base + "/ledger/api/data").raise_for_status()
            times.append(time.perf_counter() - t)
    server.should_exit = True
    thread.join(timeout=10)
    return seeded, times


def main() -> None:
    """Print both figures beside their targets."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ms = metering_overhead_ms(Path(tmp) / "a", args.runs)
        p50, p95 = statistics.median(ms), statistics.quantiles(ms, n=20)[18]
        print(
            f"metering overhead per run: median {p50:.2f} ms, p95 {p95:.2f} ms, "
            f"max {max(ms):.2f} ms over {len(ms)} runs (target < 20 ms): "
            f"{'OK' if p95 < 20 else 'MISSED'}"
        )
        seeded, times = dashboard_response_s(Path(tmp), args.entries, args.repeats)
        print(f"seeded {args.entries:,} entries in {seeded:.1f} s")
        print(
            f"dashboard /ledger/api/data with {args.entries:,} entries: median "
            f"{statistics.median(times):.3f} s, worst {max(times):.3f} s (target < 1 s): "
            f"{'OK' if max(times) < 1 else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
