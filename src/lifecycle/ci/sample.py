"""Run the pipeline on a sample in CI: a seeded sample of the configured source, written as a
Parquet file, and params.yaml's `data.source` pointed at it (the workspace copy only).

This uses only what params already allow (a Parquet path as the source), so no module changes
and `dvc repro` sees an ordinary params change.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lifecycle.config import load_params
from lifecycle.ingest import read_source


class SampleError(ValueError):
    """The sample cannot be made (too few rows, or too few to pass validation)."""


@dataclass(frozen=True)
class SampleResult:
    """What the sample step wrote."""

    path: Path
    rows: int
    source_rows: int
    original_source: str


def sample_rows(df: Any, rows: int, seed: int) -> Any:
    """A seeded sample of rows in their original order (all rows if there are fewer)."""
    if rows <= 0:
        raise SampleError(f"--rows {rows}: must be positive")
    if rows >= len(df):
        return df
    return df.sample(n=rows, random_state=seed).sort_index()


def sample_source(params_file: Path, out: Path, rows: int, seed: int | None = None) -> SampleResult:
    """Write a sample of the source to out and point params_file's data.source at it."""
    params = load_params(params_file)
    reference = int(rows * params.simulation.reference_fraction)
    if reference < params.validation.min_rows:
        raise SampleError(
            f"--rows {rows}: the reference period would have {reference} rows, "
            f"below validation.min_rows = {params.validation.min_rows}"
        )
    df = read_source(params.data, params_file.parent)
    picked = sample_rows(df, rows, params.simulation.seed if seed is None else seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    picked.to_parquet(out)
    raw = yaml.safe_load(params_file.read_text())
    try:
        shown = out.resolve().relative_to(params_file.parent.resolve())
    except ValueError:
        shown = out.resolve()
    raw["data"]["source"] = str(shown)
    params_file.write_text(yaml.safe_dump(raw, sort_keys=False))
    load_params(params_file)  # the rewritten file must still validate
    return SampleResult(out, len(picked), len(df), params.data.source)
