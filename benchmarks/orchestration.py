"""Prefect's cost and Dask's gain, measured side by side on this machine.

1. The lifecycle (ingest, validate, split, train, evaluate, promote, monitor a month, DVC record)
   as plain library calls, then as the Prefect lifecycle flow against a running server; each in
   a fresh process and a fresh project, fits one after another in both. Prints both and the ratio.
2. The candidate fits: sequential in one process vs the DaskTaskRunner on a local 2-worker cluster.

Run: `uv run python benchmarks/orchestration.py` (starts a throwaway server unless PREFECT_API_URL
is set; about 5 minutes on 2 cores).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from lifecycle.config import load_params
from lifecycle.env import apply_offline_defaults
from lifecycle.orchestration import server
from lifecycle.orchestration.dvc_record import record
from lifecycle.orchestration.runner import DaskChoice, task_runner
from lifecycle.paths import Paths
from lifecycle.system import free_port

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COPIED = ("dvc.yaml", ".dvcignore", "src/lifecycle/train.py", "src/lifecycle/features.py",
          "src/lifecycle/evaluate.py", "src/lifecycle/promote.py")  # fmt: skip


def make_project(root: Path, dask_workers: int) -> Path:
    """A fresh DVC project with the repository's params (fit parallelism set by dask_workers)."""
    root.mkdir(parents=True)
    for rel in COPIED:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, root / rel)
    raw: dict[str, Any] = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["orchestration"]["dask_workers"] = dask_workers
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    for args in (
        ("init", "--no-scm", "-q"),
        ("remote", "add", "-d", "local", str(root) + "-remote"),
    ):
        subprocess.run([str(BIN / "dvc"), *args], cwd=root, check=True, capture_output=True)
    return root


def plain(root: Path) -> None:
    """The lifecycle as library calls, in the order the flow runs them."""
    from lifecycle import evaluate, features, ingest, train, validate
    from lifecycle.monitor.run import monitor_window
    from lifecycle.promote import apply_decision

    paths = Paths(root)
    params = load_params(root / "params.yaml")
    ingest.ingest(params.data, params.simulation, paths)
    validate.validate_reference(params, paths)
    features.split(params, paths)
    record(paths, ("ingest", "validate", "split"))
    train.train(params, paths)
    apply_decision(evaluate.evaluate(params, paths), params, paths)
    record(paths, ("train", "evaluate"))
    monitor_window(params, paths, month=1, model="champion", log_mlflow=True)


def flow(root: Path) -> None:
    """The same lifecycle as the Prefect flow."""
    from lifecycle.orchestration.flows_lifecycle import lifecycle_flow

    lifecycle_flow(month=1)


def timed_child(kind: str, root: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run in a fresh process (imports included, as a user pays)."""
    cpu0 = _children_cpu()
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, kind, str(root)],
        env={**os.environ, **env, "LIFECYCLE_HOME": str(root)},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started, _children_cpu() - cpu0


def _children_cpu() -> float:
    """User + system CPU seconds of every finished child process so far."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def compare(work: Path, env: dict[str, str], repeats: int = 2) -> None:
    """Plain vs flow, interleaved (other jobs on the machine hit both alike); best of each."""
    runs: dict[str, list[tuple[float, float]]] = {"plain": [], "flow": []}
    for i in range(repeats):
        order = ("plain", "flow") if i % 2 == 0 else ("flow", "plain")
        for kind in order:
            runs[kind].append(timed_child(kind, make_project(work / f"{kind}{i}", 1), env))
    (pw, pc), (fw, fc) = (min(runs["plain"]), min(runs["flow"]))
    print(f"lifecycle as library calls:     {pw:7.1f} s wall {pc:7.1f} s CPU (best of {repeats})")
    print(f"lifecycle as a Prefect flow:    {fw:7.1f} s wall {fc:7.1f} s CPU")
    print(f"flow / plain:                   {fw / pw:7.2f} wall {fc / pc:7.2f} CPU "
          f"(overhead {100 * (fw / pw - 1):+.0f}% wall, target < +25%)")  # fmt: skip
    rounded = {k: [(round(w, 1), round(c, 1)) for w, c in v] for k, v in runs.items()}
    print(f"  every run (wall s, CPU s): {rounded}", flush=True)


def fits(root: Path) -> tuple[float, float, float]:
    """Seconds for the fits: sequential, then on a 2-worker Dask cluster, cold and warm."""
    from lifecycle import features, ingest, train, validate
    from lifecycle.orchestration.flows_train import fit_candidates_flow

    paths = Paths(root)
    params = load_params(root / "params.yaml")
    ingest.ingest(params.data, params.simulation, paths)
    validate.validate_reference(params, paths)
    features.split(params, paths)
    ctx = train.training_context(params, paths)
    started = time.perf_counter()
    for candidate in params.train.candidates:
        train.fit_candidate(candidate, params, paths, ctx)
    sequential = time.perf_counter() - started
    from distributed import LocalCluster

    started = time.perf_counter()
    with LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        runner = task_runner(DaskChoice(cluster.scheduler_address, 2))
        fit_candidates_flow.with_options(task_runner=runner)(params, paths, ctx)
        cold = time.perf_counter() - started
        started = time.perf_counter()
        fit_candidates_flow.with_options(task_runner=runner)(params, paths, ctx)
        warm = time.perf_counter() - started
    return sequential, cold, warm


def main() -> None:
    """Both comparisons, printed with their ratios."""
    apply_offline_defaults()
    work = Path(tempfile.mkdtemp(prefix="bench-orchestration-"))
    own = not os.environ.get("PREFECT_API_URL")
    home = Paths(work / "server")
    if own:
        (work / "server").mkdir()
        found = server.start(home, port=free_port(), timeout=240)
    else:
        found = server.status(home)
    env = {
        "PREFECT_API_URL": found.api_url,
        "PREFECT_HOME": str(work / "server" / ".prefect"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }
    try:
        compare(work, env)
        os.environ.update(env)
        os.environ["LIFECYCLE_HOME"] = str(work / "fits")
        sequential, cold, warm = fits(make_project(work / "fits", 2))
        print(f"candidate fits, sequential:     {sequential:7.1f} s")
        print(f"candidate fits, Dask 2 workers: {cold:7.1f} s cold (cluster start, worker imports)")
        print(f"candidate fits, Dask 2 workers: {warm:7.1f} s warm (cluster already running)")
        print(f"speed-up on {os.cpu_count()} cores:          {sequential / cold:7.2f}x cold, "
              f"{sequential / warm:.2f}x warm", flush=True)  # fmt: skip
    finally:
        if own:
            server.stop(home)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 3:
        {"plain": plain, "flow": flow}[sys.argv[1]](Path(sys.argv[2]))
    else:
        main()
        os._exit(0)  # Dask's and Prefect's exit hooks can hang after a local cluster; all is done
