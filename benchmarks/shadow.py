"""Shadow benchmark: the champion's p99 with shadow scoring off and on, under the same load.

One temp project (a hist-gradient-boosting champion trained on the telco table, and a second
registered version of it as @challenger: a challenger of the same cost), one real uvicorn
server per run (`lifecycle serve`), wrk on loopback with 8 connections of single-record
requests. Off and on runs alternate (off, on, off, on, ...) so drift of the machine hits both;
prints each run, the medians, the ratio on/off, the added milliseconds against
`serving.shadow_max_added_ms`, and how many records the shadow scored, logged late or dropped.

    uv run python benchmarks/shadow.py [--seconds 10] [--rounds 3] [--conns 8]

Needs wrk (`apt-get install wrk`). Takes about 3 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving import build_project, free_port, records, start, stop, wrk


def add_challenger(env: dict[str, str]) -> str:
    """Register the champion's run again and point @challenger at it; the version."""
    import mlflow

    from lifecycle.config import load_params
    from lifecycle.paths import Paths
    from lifecycle.registry import client, set_challenger

    p = load_params(env["LIFECYCLE_PARAMS"])
    paths = Paths(Path(env["LIFECYCLE_HOME"]))
    c = client(paths)
    champion = c.get_model_version(p.mlflow.model_name, env["MODEL_URI"].rsplit("/", 1)[1])
    mv = mlflow.register_model(f"runs:/{champion.run_id}/model", p.mlflow.model_name)
    set_challenger(paths, p.mlflow.model_name, str(mv.version))
    return str(mv.version)


def params_file(root: Path, shadow: bool) -> Path:
    """A copy of the project's params with serving.shadow set (and the alias poll slowed)."""
    raw: dict[str, Any] = yaml.safe_load((root / "params.yaml").read_text())
    raw["serving"] = {**raw.get("serving", {}), "shadow": shadow, "poll_seconds": 0}
    out = root / f"params-shadow-{'on' if shadow else 'off'}.yaml"
    out.write_text(yaml.safe_dump(raw, sort_keys=False))
    return out


def wait_challenger(url: str, seconds: float = 120) -> None:
    """Block until the server has loaded its challenger."""
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if httpx.get(f"{url}/shadow", timeout=30).json()["challenger"]["version"]:
            return
        time.sleep(0.3)
    raise RuntimeError("the challenger did not load")


def one_run(
    env: dict[str, str], params: Path, shadow: bool, body: str, args: Any, tmp: Path
) -> tuple[dict[str, float], dict[str, Any]]:
    """Start a server, warm it, measure with wrk; its figures and the shadow's live counts."""
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-c", "from lifecycle.commands.serve import serve; serve()"]
    extra = {"LIFECYCLE_PORT": str(port), "LIFECYCLE_PARAMS": str(params),
             "LIFECYCLE_LOG_LEVEL": "warning"}  # fmt: skip
    proc = start(cmd, {**env, **extra}, url, "/ready")
    try:
        if shadow:
            wait_challenger(url)
        httpx.get(f"{url}/shadow", timeout=60)  # the same start-up work either way (imports)
        wrk(url + "/predict", body, args.conns, 2, tmp)  # warm-up
        res = wrk(url + "/predict", body, args.conns, args.seconds, tmp)
        live = httpx.get(f"{url}/shadow", timeout=60).json()["live"]
    finally:
        stop(proc)
    return res, live


def main() -> None:
    """Alternate off/on runs and print the champion's p99 either way and the ratio."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--candidate", default="hist_gb")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="shadow-bench-"))
    root = tmp / "project"
    print(f"training {args.candidate} in {root} ...", flush=True)
    env = build_project(root, args.candidate)
    version = add_challenger(env)
    print(f"champion {env['MODEL_URI']}, challenger version {version}", flush=True)
    body = json.dumps(records(root, 1)[0])
    files = {False: params_file(root, False), True: params_file(root, True)}
    bound = yaml.safe_load(files[True].read_text())["serving"]["shadow_max_added_ms"]
    p99: dict[bool, list[float]] = {False: [], True: []}
    rps: dict[bool, list[float]] = {False: [], True: []}
    counts: dict[str, int] = {}
    for r in range(args.rounds):
        for shadow in (False, True):
            res, live = one_run(env, files[shadow], shadow, body, args, tmp)
            p99[shadow].append(res["p99"])
            rps[shadow].append(res["rps"])
            if shadow:
                for k, v in live["records"].items():
                    counts[k] = counts.get(k, 0) + v
            print(f"round {r + 1} shadow {'on ' if shadow else 'off'}  {res['rps']:8.1f} req/s  "
                  f"p50 {res['p50']:7.2f} ms  p99 {res['p99']:7.2f} ms  "
                  f"non-2xx {res['errors']:.0f}", flush=True)  # fmt: skip
    off, on = statistics.median(p99[False]), statistics.median(p99[True])
    print(f"\n== champion p99, {args.conns} connections, single-record requests ==")
    print(f"shadow off {off:.2f} ms   shadow on {on:.2f} ms   ratio on/off {on / off:.3f}   "
          f"added {on - off:+.2f} ms (bound serving.shadow_max_added_ms {bound} ms)")  # fmt: skip
    print(f"throughput off {statistics.median(rps[False]):.1f} req/s   "
          f"on {statistics.median(rps[True]):.1f} req/s")  # fmt: skip
    total = sum(counts.values()) or 1
    shares = "  ".join(f"{k} {v} ({v / total:.1%})" for k, v in counts.items() if v)
    print(f"shadow records (all 'on' runs): {shares}")


if __name__ == "__main__":
    main()
