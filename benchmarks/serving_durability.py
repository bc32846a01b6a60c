"""Serving throughput before and after a code change (issue 16: the log written before answering).

Trains one project, then starts `lifecycle serve` from two source trees in turn on the same
project (a baseline commit's `src/`, exported with `git archive`, and this checkout's) and
runs wrk against each, rounds interleaved so both meet the same moments of a shared machine.
Prints req/s, p50 and p99 per round and the medians' ratio (target: within 10%).

    uv run python benchmarks/serving_durability.py [--baseline 94ffcd9] [--rounds 3]

Needs wrk (`apt-get install wrk`).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from lifecycle.system import free_port

ROOT = Path(__file__).resolve().parents[1]


def serving_bench() -> Any:
    """benchmarks/serving.py as a module (its project builder, wrk runner, start and stop)."""
    spec = importlib.util.spec_from_file_location("serving_bench", ROOT / "benchmarks/serving.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def export_src(commit: str, into: Path) -> Path:
    """The baseline commit's src/ folder, unpacked."""
    blob = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "src"],
                          capture_output=True, check=True).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


def overlay(base: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """base with values' entries for the keys base has (recursively); keys base lacks dropped."""
    out = dict(base)
    for key, value in values.items():
        if key not in base:
            continue
        both = isinstance(value, dict) and isinstance(base[key], dict)
        out[key] = overlay(base[key], value) if both else value
    return out


def main() -> None:
    """Interleaved rounds of baseline and current; the table and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--baseline", default="94ffcd9")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--conns", type=int, default=8)
    args = ap.parse_args()
    bench = serving_bench()
    build_project, records, start, stop, wrk = (
        bench.build_project,
        bench.records,
        bench.start,
        bench.stop,
        bench.wrk,
    )
    tmp = Path(tempfile.mkdtemp(prefix="serving-durability-"))
    env = build_project(tmp / "project", "hist_gb")
    body = json.dumps(records(tmp / "project", 1)[0])
    trees = {"baseline": str(export_src(args.baseline, tmp / "base")),
             "current": str(ROOT / "src")}  # fmt: skip
    # the baseline's params models refuse keys added since: its own params.yaml, with this
    # project's values wherever the baseline has the key
    import yaml

    raw = yaml.safe_load((tmp / "project" / "params.yaml").read_text())
    shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{args.baseline}:params.yaml"],
                           capture_output=True, text=True, check=True).stdout  # fmt: skip
    baseline = overlay(yaml.safe_load(shown), raw)
    (tmp / "project" / "params-baseline.yaml").write_text(yaml.safe_dump(baseline))
    params_of = {"baseline": str(tmp / "project" / "params-baseline.yaml"),
                 "current": env["LIFECYCLE_PARAMS"]}  # fmt: skip
    results: dict[str, list[dict[str, float]]] = {k: [] for k in trees}
    code = "from lifecycle.commands.serve import serve; serve()"
    for rnd in range(args.rounds):
        for name, src in trees.items():
            port = free_port()
            extra = {"PYTHONPATH": src, "LIFECYCLE_PORT": str(port),
                     "LIFECYCLE_PARAMS": params_of[name],
                     "LIFECYCLE_LOG_LEVEL": "warning"}  # fmt: skip
            url = f"http://127.0.0.1:{port}"
            proc = start([sys.executable, "-c", code], {**env, **extra}, url, "/ready")
            try:
                wrk(url + "/predict", body, args.conns, 2, tmp)  # warm-up
                res = wrk(url + "/predict", body, args.conns, args.seconds, tmp)
            finally:
                stop(proc)
            results[name].append(res)
            line = f"round {rnd + 1} {name:<8} {res['rps']:8.1f} req/s  p50 {res['p50']:7.2f} ms"
            print(f"{line}  p99 {res['p99']:7.2f} ms  non-2xx {res['errors']:.0f}", flush=True)
    base = statistics.median(r["rps"] for r in results["baseline"])
    now = statistics.median(r["rps"] for r in results["current"])
    print(f"median req/s: baseline {base:.1f}, current {now:.1f}: {now / base - 1:+.1%} "
          "(target: within -10%)")  # fmt: skip


if __name__ == "__main__":
    main()
