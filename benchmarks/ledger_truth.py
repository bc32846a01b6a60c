"""Ledger against the OS: CPU-seconds the ledger recorded for a command vs the kernel's figure.

Runs the command as a child process (e.g. `lifecycle run` against a running Prefect server),
takes the kernel's CPU of its whole process tree (RUSAGE_CHILDREN: it and everything it waited
for, Dask workers included) and the CPU of the ledger rows written meanwhile, and prints both
with their ratio (target 0.9-1.1). Also the metering overhead per run with the process-tree
read (target < 20 ms).

    uv run python benchmarks/ledger_truth.py -- .venv/bin/lifecycle run
    uv run python benchmarks/ledger_truth.py --overhead-only
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from lifecycle.config import load_params
from lifecycle.ledger.meter import metered
from lifecycle.ledger.queries import iter_entries
from lifecycle.paths import Paths

REPO = Path(__file__).resolve().parents[1]


def children_cpu() -> float:
    """CPU seconds of this process's waited-for descendants, per the kernel."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def ledger_vs_os(command: list[str], url: str | None) -> tuple[float, float, float, int]:
    """(ledger CPU-s, OS CPU-s, wall s, rows) of one run of the command."""
    since = datetime.now(UTC).replace(tzinfo=None)
    before, t0 = children_cpu(), time.perf_counter()
    done = subprocess.run(command, check=False)
    wall, os_cpu = time.perf_counter() - t0, children_cpu() - before
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}")
    rows = [e for e in iter_entries(url) if e.started_at.replace(tzinfo=None) >= since]
    return sum(e.usage.cpu_seconds for e in rows), os_cpu, wall, len(rows)


def overhead_ms(runs: int) -> list[float]:
    """Wall milliseconds of an empty metered block, the process-tree read included."""
    params = load_params(REPO / "params.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "data" / "raw").mkdir(parents=True)
        for i in range(200):
            (root / "data" / "raw" / f"part-{i}.parquet").write_bytes(b"x" * 1000)
        url, paths, out = f"sqlite:///{root / 'ledger.db'}", Paths(root), []
        for i in range(runs + 20):
            t0 = time.perf_counter()
            with metered("task", "noop", "development", "manual", params=params, url=url,
                         paths=paths, tag=False):  # fmt: skip
                pass
            if i >= 20:
                out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    """Print the figures beside their targets."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--url", default=None, help="the ledger the command writes (default: ours)")
    ap.add_argument("--overhead-only", action="store_true")
    ap.add_argument("command", nargs="*")
    args = ap.parse_args()
    ms = overhead_ms(args.runs)
    print(f"metering overhead per run: median {statistics.median(ms):.2f} ms, "
          f"p95 {statistics.quantiles(ms, n=20)[18]:.2f} ms (target < 20 ms)")  # fmt: skip
    if args.overhead_only or not args.command:
        return
    ledger, os_cpu, wall, rows = ledger_vs_os(args.command, args.url)
    ratio = ledger / os_cpu
    print(f"{' '.join(args.command)}: wall {wall:.1f} s, OS CPU {os_cpu:.2f} s, ledger CPU "
          f"{ledger:.2f} s in {rows} rows, ratio {ratio:.3f} (target 0.9-1.1)")  # fmt: skip


if __name__ == "__main__":
    main()
