"""Our drift check against Evidently's DataDriftPreset on the same 100,000 x 100,000 rows.

Run: `uv run python benchmarks/drift.py` (add `--rows N`, `--big-rows N`). Prints the run times,
the speed-up, both peaks of memory, the share of per-feature verdicts that agree, and our check's
time and peak memory on 1,000,000 x 1,000,000 rows (target: under 2 GB).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCENARIO = "contract_mix"


def make_data(rows: int, folder: Path, seed: int = 0) -> tuple[Path, Path]:
    """Reference and current parquet files resampled from the real table (current drifted)."""
    from lifecycle.config import load_params
    from lifecycle.ingest import apply_scenario, read_source, split_arrival

    params = load_params(ROOT / "params.yaml")
    table = read_source(params.data).rename(columns=params.data.rename)
    reference, months = split_arrival(table, params.simulation)
    import pandas as pd

    later = pd.concat(months, ignore_index=True)
    ref = reference.sample(rows, replace=True, random_state=seed).reset_index(drop=True)
    cur = later.sample(rows, replace=True, random_state=seed + 1).reset_index(drop=True)
    cur = apply_scenario(cur, params.simulation.scenarios[SCENARIO], params.data, seed=seed)
    ref_path, cur_path = folder / f"ref_{rows}.parquet", folder / f"cur_{rows}.parquet"
    ref.to_parquet(ref_path, index=False)
    cur.to_parquet(cur_path, index=False)
    return ref_path, cur_path


def ours(ref_path: Path, cur_path: Path) -> dict[str, Any]:
    """Our check in this process: import, read, run; verdicts and figures."""
    t0 = time.perf_counter()
    import pandas as pd
    import scipy.stats  # noqa: F401  (imported here so its cost is counted as import, not run)

    from lifecycle.config import load_params
    from lifecycle.monitor.check import check_drift

    import_s = time.perf_counter() - t0
    params = load_params(ROOT / "params.yaml")
    cols = list(params.data.features)
    ref = pd.read_parquet(ref_path, columns=cols)
    cur = pd.read_parquet(cur_path, columns=cols)
    t1 = time.perf_counter()
    report = check_drift(ref, cur, params, "bench")
    run_s = time.perf_counter() - t1
    return {
        "columns": {f.column: {"drifted": f.drifted} for f in report.features},
        "import_s": import_s,
        "run_s": run_s,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "verdict": report.verdict,
    }


def ours_in_child(ref_path: Path, cur_path: Path) -> dict[str, Any]:
    """Our check in a fresh process, so its peak memory is its own."""
    cmd = [sys.executable, str(Path(__file__)), "--child", str(ref_path), str(cur_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def agreement(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Share of the columns on which both give the same verdict."""
    cols = sorted(a["columns"])
    same = sum(a["columns"][c]["drifted"] == b["columns"][c]["drifted"] for c in cols)
    return same / len(cols)


def main(argv: list[str]) -> int:
    """Build the data, run both, print the figures."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--big-rows", type=int, default=1_000_000)
    ap.add_argument("--child", nargs=2, metavar=("REF", "CUR"))
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(ours(Path(args.child[0]), Path(args.child[1]))))
        return 0
    from lifecycle.config import load_params
    from lifecycle.monitor.peer import run_evidently

    params = load_params(ROOT / "params.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        ref_path, cur_path = make_data(args.rows, Path(tmp))
        our = ours_in_child(ref_path, cur_path)
        peer = run_evidently(
            ref_path, cur_path, params.data, params.drift, HERE / "evidently_peer.py"
        )
        n_cols = len(our["columns"])
        print(f"{args.rows:,} reference x {args.rows:,} current rows, {n_cols} columns, "
              f"scenario {SCENARIO!r}")  # fmt: skip
        print(f"  evidently DataDriftPreset: import {peer['import_s']:.2f} s, "
              f"run {peer['run_s']:.3f} s, peak {peer['peak_mb']:.0f} MB")  # fmt: skip
        print(f"  ours (lifecycle.monitor):   import {our['import_s']:.2f} s, "
              f"run {our['run_s']:.3f} s, peak {our['peak_mb']:.0f} MB")  # fmt: skip
        print(f"  speed-up (run): {peer['run_s'] / our['run_s']:.1f}x (target >= 10x)")
        ours_drift = sorted(c for c, v in our["columns"].items() if v["drifted"])
        peer_drift = sorted(c for c, v in peer["columns"].items() if v["drifted"])
        print(f"  agreement: {agreement(our, peer):.1%} of columns "
              f"(ours drift: {ours_drift}; evidently drift: {peer_drift})")  # fmt: skip
        Path(ref_path).unlink()
        Path(cur_path).unlink()
        if args.big_rows:
            big_ref, big_cur = make_data(args.big_rows, Path(tmp), seed=1)
            big = ours_in_child(big_ref, big_cur)
            ok = "under" if big["peak_mb"] < 2048 else "OVER"
            n = f"{args.big_rows:,}"
            print(f"  ours on {n} x {n} rows: run {big['run_s']:.3f} s, "
                  f"peak {big['peak_mb']:.0f} MB ({ok} the 2 GB target)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
