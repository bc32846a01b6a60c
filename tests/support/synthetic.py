"""A seeded table shaped by a use case's params, with nulls, for fitting pipelines in tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from lifecycle.config import Params


def synthetic_rows(params: Params, n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Features (5% nulls in each column) and a target that the first numeric column drives."""
    rng = np.random.default_rng(seed)
    data: dict[str, Any] = {}
    for j, c in enumerate(params.data.numeric):
        values = rng.normal(10 * (j + 1), 3 + j, n)
        values[rng.random(n) < 0.05] = np.nan
        data[c] = values
    for j, c in enumerate(params.data.categorical):
        values = rng.choice([f"v{k}" for k in range(2 + j % 3)], n).astype(object)
        values[rng.random(n) < 0.05] = None
        data[c] = values
    frame = pd.DataFrame(data, columns=list(params.data.features))
    first = frame[params.data.numeric[0]].fillna(0).to_numpy()
    y = (first + rng.normal(0, 3, n) > np.median(first)).astype(int)
    return frame, y
