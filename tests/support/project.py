"""A throw-away project folder: params.yaml (optionally trimmed for speed) and its own stores."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
FAST_CANDIDATE: dict[str, Any] = {
    "name": "logreg", "family": "logistic_regression", "params": {"C": 1.0, "max_iter": 500}
}  # fmt: skip


def repo_params_raw() -> dict[str, Any]:
    """The repository's params.yaml as a plain mapping."""
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    assert isinstance(raw, dict)
    return raw


def fast_params_raw(
    candidates: Sequence[dict[str, Any]] | None = None, base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The tests' one params trimmer: the same params with few cheap candidates (default one
    logistic regression), two CV folds and a short bootstrap, so pipelines run in seconds."""
    raw = copy.deepcopy(base or repo_params_raw())
    raw["train"]["cv_folds"] = 2
    raw["train"]["candidates"] = copy.deepcopy(list(candidates or [FAST_CANDIDATE]))
    raw["promotion"]["bootstrap_samples"] = 200
    return raw


def write_project(root: Path, raw: dict[str, Any]) -> Path:
    """Write params.yaml into root and return root."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return root
