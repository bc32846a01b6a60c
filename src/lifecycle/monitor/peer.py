"""Run Evidently's DataDriftPreset, configured like our check, in its own env (dev, bench)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from lifecycle.config import DataParams, DriftParams

EVIDENTLY = "evidently==0.7.23"
METHODS = {"ks": "ks", "chi2": "chisquare", "psi": "psi"}


def peer_config(data: DataParams, drift: DriftParams) -> dict[str, Any]:
    """Evidently's per-type method and threshold that match the test our params pick."""
    num_t = drift.ks_pvalue if drift.numeric_test == "ks" else drift.psi_threshold
    cat_t = drift.chi2_pvalue if drift.categorical_test == "chi2" else drift.psi_threshold
    return {
        "numeric": list(data.numeric),
        "categorical": list(data.categorical),
        "num_method": METHODS[drift.numeric_test],
        "cat_method": METHODS[drift.categorical_test],
        "num_threshold": num_t,
        "cat_threshold": cat_t,
        "drift_share": drift.drift_share,
    }


def peer_command(script: Path, *args: str) -> list[str]:
    """uv runs the peer script in a throw-away env with Evidently and pandas below 3."""
    return [
        "uv", "run", "--no-project", "--quiet",
        "--with", EVIDENTLY, "--with", "pandas<3", "--with", "pyarrow",
        "python", str(script), *args,
    ]  # fmt: skip


def run_evidently(
    reference: Path,
    current: Path | list[Path],
    data: DataParams,
    drift: DriftParams,
    script: Path,
) -> dict[str, Any]:
    """Evidently's verdicts and timings on parquet files (one subprocess; raises on failure)."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "config.json"
        cfg.write_text(json.dumps(peer_config(data, drift)))
        currents = ",".join(str(c) for c in (current if isinstance(current, list) else [current]))
        cmd = peer_command(script, str(reference), currents, str(cfg))
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=tmp)
    if done.returncode != 0:
        raise RuntimeError(f"evidently peer failed ({done.returncode}): {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
