"""Pipeline timings: full `dvc repro` from clean, a no-op repro, and CLI start-up vs bare Python.

Run: `uv run python benchmarks/pipeline.py` (about 2 minutes on 2 cores). Works in a temporary
copy of the project with its own stores, so your data, MLflow store and ledger are untouched.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Wall seconds of one command (which must succeed)."""
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed


def _median_start(cmd: list[str], cwd: Path, env: dict[str, str], n: int = 7) -> float:
    """Median wall time of a short command over n runs (after one warm-up)."""
    _run(cmd, cwd, env)
    return statistics.median(_run(cmd, cwd, env) for _ in range(n))


def _project(tmp: Path) -> tuple[Path, dict[str, str]]:
    """A fresh git + DVC copy of the project with its own stores."""
    root = tmp / "project"
    root.mkdir()
    for name in ("dvc.yaml", "params.yaml"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "src" / "lifecycle", root / "src" / "lifecycle")
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "LIFECYCLE_HOME": str(root),
        "LIFECYCLE_PARAMS": str(root / "params.yaml"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "LIFECYCLE_LEDGER_URL": f"sqlite:///{root / 'ledger.db'}",
        "DVC_NO_ANALYTICS": "1",
        "GX_ANALYTICS_ENABLED": "false",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    for cmd in (["git", "init", "-q"], ["dvc", "init", "-q"]):
        _run(cmd, root, env)
    return root, env


def main() -> None:
    """Measure and print each figure against its target."""
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        root, env = _project(Path(tmp))
        full = _run(["dvc", "repro"], root, env)
        noop = statistics.median(_run(["dvc", "repro"], root, env) for _ in range(3))
        bare = _median_start([sys.executable, "-c", "pass"], root, env)
        cli = _median_start([str(BIN / "lifecycle"), "--help"], root, env)

    def row(label: str, value: float, target: float | None) -> None:
        verdict = "" if target is None else ("ok" if value < target else "MISS")
        goal = "" if target is None else f"< {target:g} s"
        print(f"{label:<34}{value:>10.3f}  {goal:<8} {verdict}")

    print(f"{'measure':<34}{'seconds':>10}  target")
    row("full dvc repro from clean", full, 120)
    row("no-op dvc repro (median of 3)", noop, 3)
    row("python -c pass (median of 7)", bare, None)
    row("lifecycle --help (median of 7)", cli, 1)
    print(f"lifecycle --help / python -c pass: {cli / bare:.1f}x")


if __name__ == "__main__":
    main()
