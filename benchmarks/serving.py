"""Serving benchmark: our service vs a no-op FastAPI endpoint vs `mlflow models serve`.

One run, one model (a hist-gradient-boosting champion trained here on the telco table, the
pipeline STACK.md measured), one load generator (wrk on loopback), concurrency 8 and 32,
single-record and 100-record requests. Prints requests/s, p50, p99 per server and the ratios
against the targets, then a 10,000-record request against in-process `predict_proba`: each
request on a quiet server (the target), and the same requests back to back, where each one
shares the CPU with the writing of its predecessor's 10,000 log lines (sustained throughput).

    uv run python benchmarks/serving.py [--seconds 8] [--candidate hist_gb]

Needs wrk (`apt-get install wrk`). Takes about 3 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lifecycle.system import free_port

ROOT = Path(__file__).resolve().parents[1]


def build_project(root: Path, candidate: str) -> dict[str, str]:
    """A temp project with one trained candidate promoted to champion; its environment."""
    from lifecycle.config import load_params
    from lifecycle.env import apply_offline_defaults
    from lifecycle.features import split
    from lifecycle.ingest import ingest
    from lifecycle.paths import Paths
    from lifecycle.registry import promote
    from lifecycle.train import train

    apply_offline_defaults()
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "params.yaml", root / "params.yaml")
    base = load_params(root / "params.yaml")
    chosen = tuple(c for c in base.train.candidates if c.name == candidate)
    params = base.model_copy(update={"train": base.train.model_copy(update={"candidates": chosen})})
    env = {
        "LIFECYCLE_HOME": str(root),
        "LIFECYCLE_PARAMS": str(root / "params.yaml"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "LIFECYCLE_LEDGER_URL": f"sqlite:///{root / 'ledger.db'}",
    }
    os.environ.update(env)
    paths = Paths(root)
    ingest(params.data, params.simulation, paths)
    paths.validated.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(paths.raw_reference, paths.validated)
    split(params, paths)
    result = train(params, paths)
    promote(paths, params.mlflow.model_name, result.version)
    env["MODEL_URI"] = f"models:/{params.mlflow.model_name}/{result.version}"
    return env


def records(root: Path, n: int) -> list[dict[str, Any]]:
    """n holdout records (repeated if needed), nulls as None."""
    import pandas as pd

    from lifecycle.config import load_params

    p = load_params(root / "params.yaml")
    frame = pd.read_parquet(root / "data" / "processed" / "holdout.parquet")
    feats = frame[list(p.data.features)].astype(object)
    rows = [
        {str(k): v for k, v in r.items()}
        for r in feats.where(feats.notna(), None).to_dict("records")
    ]
    return (rows * (n // len(rows) + 1))[:n]


def noop_app() -> Any:
    """A FastAPI endpoint with the same pydantic body that does nothing: the HTTP ceiling."""
    from fastapi import FastAPI
    from pydantic import ConfigDict, RootModel

    from lifecycle.config import load_params
    from lifecycle.serve.schema import record_type

    record: Any = record_type(load_params())

    class Body(RootModel[record | list[record]]):  # type: ignore[misc,valid-type]
        model_config = ConfigDict(frozen=True)

    app = FastAPI()

    async def predict(body: Any) -> dict[str, bool]:
        return {"ok": True}

    # set after definition: this module's postponed annotations would hide the local class
    predict.__annotations__ = {"body": Body, "return": dict[str, bool]}
    app.add_api_route("/predict", predict, methods=["POST"])
    return app


def start(
    cmd: list[str], env: dict[str, str], url: str, probe: str = "/health"
) -> subprocess.Popen[bytes]:
    """Start a server and wait until it answers."""
    import httpx

    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=env.get("LIFECYCLE_HOME"))  # fmt: skip
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + probe, timeout=2).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"{cmd} did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Graceful stop."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()


def wrk(url: str, body: str, conns: int, seconds: int, tmp: Path) -> dict[str, float]:
    """requests/s, p50 and p99 (ms) and errors from one wrk run."""
    script = tmp / "post.lua"
    body_file = tmp / "body.json"
    body_file.write_text(body)
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f'local f = io.open("{body_file}")\nwrk.body = f:read("*a")\nf:close()\n'
    )
    out = subprocess.run(
        ["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip

    def ms(label: str) -> float:
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not m:
            return float("nan")
        return float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errs = re.search(r"Socket errors: .*timeout (\d+)", out)
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"),
            "errors": float(bad.group(1)) if bad else 0.0, "timeouts": float(errs.group(1)) if errs else 0.0}  # noqa: E501  # fmt: skip


def big_request(
    url: str,
    rows: list[dict[str, Any]],
    mlflow_format: bool = False,
    before: Callable[[], None] | None = None,
) -> float:
    """Median seconds of a 10,000-record request (10 runs after a warm-up), `before` each."""
    import httpx

    body = json.dumps({"dataframe_records": rows} if mlflow_format else rows).encode()
    times = []
    with httpx.Client(timeout=120) as http:
        for i in range(11):
            if before is not None:
                before()
            t = time.perf_counter()
            r = http.post(url, content=body, headers={"Content-Type": "application/json"})
            r.raise_for_status()
            if i:
                times.append(time.perf_counter() - t)
    return statistics.median(times)


def log_drained(url: str, limit: float = 120.0) -> None:
    """Wait until our server has written the load phase's prediction log (or the limit).

    The load phase leaves hundreds of thousands of lines queued; the writer formats them
    while no request is in flight, and a 10,000-record request timed meanwhile would share
    the CPU with it. Each timed request's own lines are still written during the next ones.
    """
    import httpx

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        text = httpx.get(url + "/metrics", timeout=10).text
        m = re.search(r"^lifecycle_prediction_log_pending_rows ([\d.e+]+)$", text, re.M)
        if m and float(m.group(1)) == 0:
            return
        time.sleep(0.5)
    print("warning: the prediction log was still being written", flush=True)


def quiet_then_in_process(url: str, pipe: Any, frame: Any, times: list[float]) -> None:
    """Wait for our server's log to be written, then time predict_proba here once."""
    log_drained(url)
    times.append(_timed(lambda: pipe.predict_proba(frame)))


def pipeline_inputs(root: Path, env: dict[str, str], n: int) -> tuple[Any, Any, Any]:
    """The served pipeline loaded in this process, one holdout row and n rows (a frame)."""
    import pandas as pd

    from lifecycle.config import load_params
    from lifecycle.features import model_inputs
    from lifecycle.paths import Paths
    from lifecycle.registry import load_sklearn

    p = load_params(root / "params.yaml")
    pipe: Any = load_sklearn(Paths(root), p.mlflow.model_name, env["MODEL_URI"].rsplit("/", 1)[1])
    frame = model_inputs(pd.read_parquet(root / "data" / "processed" / "holdout.parquet"), p.data)
    big = pd.concat([frame] * (n // len(frame) + 1), ignore_index=True).iloc[:n]
    return pipe, frame.iloc[:1], big


def in_process(root: Path, env: dict[str, str], n: int) -> tuple[float, float]:
    """Seconds of predict_proba on 1 row and on n rows, in-process (median of runs)."""
    pipe, one, big = pipeline_inputs(root, env, n)
    pipe.predict_proba(one)
    from threadpoolctl import threadpool_limits

    best = (float("inf"), float("inf"))
    for limit in (None, 1):  # the faster of the default thread pool and one thread
        with threadpool_limits(limit):
            t1 = statistics.median(_timed(lambda: pipe.predict_proba(one)) for _ in range(30))
            tn = statistics.median(_timed(lambda: pipe.predict_proba(big)) for _ in range(10))
        best = (min(best[0], t1), min(best[1], tn))
    return best


def _timed(fn: Any) -> float:
    """Seconds one call takes."""
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main() -> None:
    """Run the whole comparison and print the table and the ratios."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=int, default=8)
    ap.add_argument("--candidate", default="hist_gb")
    ap.add_argument("--noop-server", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.noop_server:
        import uvicorn

        uvicorn.run(noop_app(), host="127.0.0.1", port=args.noop_server, log_level="warning")
        return
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    tmp = Path(tempfile.mkdtemp(prefix="serving-bench-"))
    root = tmp / "project"
    print(f"training {args.candidate} in {root} ...", flush=True)
    env = build_project(root, args.candidate)
    one, hundred = records(root, 1)[0], records(root, 100)
    bodies = {1: (json.dumps(one), json.dumps({"dataframe_records": [one]})),
              100: (json.dumps(hundred), json.dumps({"dataframe_records": hundred}))}  # fmt: skip
    ports = {name: free_port() for name in ("ours", "noop", "mlflow")}
    py = sys.executable
    servers = {
        "ours": ([py, "-c", "from lifecycle.commands.serve import serve; serve()"],
                 {"LIFECYCLE_PORT": str(ports["ours"]), "LIFECYCLE_LOG_LEVEL": "warning"},
                 "/ready", "/predict"),
        "noop": ([py, str(Path(__file__).resolve()), "--noop-server", str(ports["noop"])], {},
                 "/docs", "/predict"),
        "mlflow": ([str(Path(py).with_name("mlflow")), "models", "serve", "-m", env["MODEL_URI"],
                    "--env-manager", "local", "-h", "127.0.0.1", "-p", str(ports["mlflow"])],
                   {"PATH": f"{Path(py).parent}{os.pathsep}{os.environ.get('PATH', '')}"},
                   "/ping", "/invocations"),  # it starts `uvicorn` from PATH
    }  # fmt: skip
    results: dict[tuple[str, int, int], dict[str, float]] = {}
    big_seconds: dict[str, float] = {}
    big_rows = records(root, 10_000)
    for name, (cmd, extra, probe, route) in servers.items():
        url = f"http://127.0.0.1:{ports[name]}"
        proc = start(cmd, {**env, **extra}, url, probe)
        try:
            for size in (1, 100):
                body = bodies[size][1 if name == "mlflow" else 0]
                wrk(url + route, body, 8, 2, tmp)  # warm-up
                for conns in (8, 32):
                    res = wrk(url + route, body, conns, args.seconds, tmp)
                    results[(name, size, conns)] = res
                    print(f"{name:<7} {size:>3} rec  c={conns:<3} {res['rps']:9.1f} req/s  "
                          f"p50 {res['p50']:8.2f} ms  p99 {res['p99']:8.2f} ms  "
                          f"non-2xx {res['errors']:.0f}", flush=True)  # fmt: skip
            if name == "ours":
                # one request at a time on a quiet server, as predict_proba is timed in a quiet
                # process: each waits until the log of the one before is written, and
                # predict_proba is timed in this process between them (the same minutes of the
                # machine); then the same requests back to back, each sharing the CPU with its
                # predecessor's log
                pipe, _, frame = pipeline_inputs(root, env, 10_000)
                beside: list[float] = []
                quiet = functools.partial(quiet_then_in_process, url, pipe, frame, beside)
                big_seconds["ours"] = big_request(url + route, big_rows, before=quiet)
                big_seconds["predict_proba, timed between"] = statistics.median(beside[1:])
                big_seconds["ours, back to back"] = big_request(url + route, big_rows)
            elif name == "mlflow":
                big_seconds[name] = big_request(url + route, big_rows, mlflow_format=True)
        finally:
            stop(proc)
    t1, tn = in_process(root, env, 10_000)
    report(results, big_seconds, t1, tn)


def report(
    results: dict[tuple[str, int, int], dict[str, float]],
    big: dict[str, float],
    t1: float,
    tn: float,
) -> None:
    """The table of ratios and the targets."""
    print("\n== ratios (single-record requests) ==")
    for c in (8, 32):
        ours, noop, ml = (results[(n, 1, c)] for n in ("ours", "noop", "mlflow"))
        print(f"c={c:<3} ours/mlflow throughput {ours['rps'] / ml['rps']:6.1f}x (target >= 10x)  "
              f"ours/no-op {ours['rps'] / noop['rps']:6.1%} (target >= 40%)  "
              f"p99 ours/mlflow {ours['p99'] / ml['p99']:6.3f} (target <= 0.2)")  # fmt: skip
    print("== ratios (100-record requests, rows/s) ==")
    for c in (8, 32):
        ours, noop, ml = (results[(n, 100, c)] for n in ("ours", "noop", "mlflow"))
        ratio, share = ours["rps"] / ml["rps"], ours["rps"] / noop["rps"]
        print(f"c={c:<3} ours {ours['rps'] * 100:9.0f} rows/s  mlflow {ml['rps'] * 100:8.0f}  "
              f"ratio {ratio:6.1f}x  ours/no-op {share:6.1%}")  # fmt: skip
    print("== 10,000 records in one request ==")
    print(f"in-process predict_proba after the servers stopped: 1 row {t1 * 1000:.2f} ms, "
          f"10,000 rows {tn * 1000:.1f} ms ({10_000 / tn:,.0f} rows/s)")  # fmt: skip
    between = big.pop("predict_proba, timed between", tn)
    inproc = 10_000 / between
    print(f"in-process predict_proba timed between our requests: {between * 1000:.1f} ms "
          f"({inproc:,.0f} rows/s); the ratios below are against it")  # fmt: skip
    for name, secs in big.items():
        rate = 10_000 / secs
        target = " (target >= 50%)" if name == "ours" else ""
        print(f"{name:<18} 10,000-record request {secs * 1000:7.1f} ms = {rate:9,.0f} rows/s "
              f"= {rate / inproc:6.1%} of in-process{target}")  # fmt: skip


if __name__ == "__main__":
    main()
