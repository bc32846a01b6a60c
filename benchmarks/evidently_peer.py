"""Evidently's DataDriftPreset on two parquet files, in its own env (pandas<3): our peer.

Usage (from the repo root):
    uv run --no-project --with evidently==0.7.23 --with 'pandas<3' --with pyarrow \
        python benchmarks/evidently_peer.py REF.parquet CUR.parquet[,CUR2.parquet...] CONFIG.json

CONFIG.json: {"numeric": [...], "categorical": [...], "num_method": "ks", "cat_method": "chisquare",
"num_threshold": 0.05, "cat_threshold": 0.05, "drift_share": 0.3}. Prints one JSON object: per
current file, per-column verdicts and scores and the run's seconds ("runs"; the first is also at
the top level), the import seconds, and the process's peak RSS.
"""

from __future__ import annotations

import json
import resource
import sys
import time
import warnings
from typing import Any

P_VALUE_METHODS = {"ks", "chisquare", "z", "fisher_exact", "t_test", "mannw"}


def main(argv: list[str]) -> int:
    """Run the preset configured like our check on each current file; print verdicts as JSON."""
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    ref_path, cur_paths, cfg_path = argv
    with open(cfg_path) as fh:
        cfg: dict[str, Any] = json.load(fh)
    warnings.filterwarnings("ignore")
    t0 = time.perf_counter()
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    import_s = time.perf_counter() - t0
    cols = [*cfg["numeric"], *cfg["categorical"]]

    def read(path: str) -> Any:
        """Features only; categories as plain strings, as our check sees them."""
        frame = pd.read_parquet(path, columns=cols)
        for c in cfg["categorical"]:
            frame[c] = frame[c].astype("object").where(frame[c].notna(), None)
        return frame

    definition = DataDefinition(
        numerical_columns=list(cfg["numeric"]), categorical_columns=list(cfg["categorical"])
    )
    ref = read(ref_path)
    runs = []
    for cur_path in cur_paths.split(","):
        cur = read(cur_path)
        t1 = time.perf_counter()
        ref_ds = Dataset.from_pandas(ref, data_definition=definition)
        cur_ds = Dataset.from_pandas(cur, data_definition=definition)
        preset = DataDriftPreset(
            columns=cols,
            num_method=cfg["num_method"],
            cat_method=cfg["cat_method"],
            num_threshold=cfg["num_threshold"],
            cat_threshold=cfg["cat_threshold"],
            drift_share=cfg["drift_share"],
        )
        snapshot = Report([preset]).run(current_data=cur_ds, reference_data=ref_ds)
        run_s = time.perf_counter() - t1
        runs.append({"current": cur_path, "columns": verdicts(snapshot.dict()), "run_s": run_s})
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out = {**runs[0], "runs": runs, "import_s": import_s, "peak_mb": peak_mb}
    print(json.dumps(out, default=float))
    return 0


def verdicts(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per-column drift verdicts from the snapshot's ValueDrift metrics."""
    columns: dict[str, dict[str, Any]] = {}
    for metric in body.get("metrics", []):
        config = metric.get("config", {})
        if not config.get("type", "").endswith(":ValueDrift"):
            continue
        method, threshold, value = config["method"], config["threshold"], metric["value"]
        # Evidently's rule: p-value tests drift below the threshold, distances at or above it
        drifted = value < threshold if method in P_VALUE_METHODS else value >= threshold
        columns[config["column"]] = {"drifted": bool(drifted), "score": value, "method": method}
    return columns


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
