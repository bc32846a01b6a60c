"""The lean transform's row-wise and column-wise one-hot paths give the same matrix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lifecycle.serve.fastpath import ROW_WISE_ROWS, OneHotBlock


def block(columns: tuple[str, ...]) -> OneHotBlock:
    """A fitted-looking block: two or three categories per column, null imputed to the first."""
    cats = [["a", "b"], ["x", "y", "z"]][: len(columns)]
    lookups = tuple({v: j for j, v in enumerate(c)} | {None: 0} for c in cats)
    spans = tuple(len(c) for c in cats)
    firsts = tuple(sum(spans[:i]) for i in range(len(spans)))
    return OneHotBlock(columns, lookups, sum(spans), np.float64, firsts)


@pytest.mark.parametrize("columns", [("c1",), ("c1", "c2")])
def test_column_wise_equals_row_wise(columns: tuple[str, ...]) -> None:
    """Known, unseen and null values, one or several columns: the same ones in the same places."""
    rng = np.random.default_rng(0)
    values: list[Any] = ["a", "b", "x", "y", "z", "unseen", None]
    rows = [{c: values[int(rng.integers(len(values)))] for c in columns} for _ in range(100)]
    b = block(columns)
    wide = b.apply(rows)  # more than ROW_WISE_ROWS rows: column by column
    assert len(rows) > ROW_WISE_ROWS
    narrow = np.vstack([b.apply(rows[i : i + 8]) for i in range(0, len(rows), 8)])
    assert np.array_equal(wide, narrow)
    assert wide.sum() == sum(r[c] in b.lookups[k] for r in rows for k, c in enumerate(columns))
    assert wide[[i for i, r in enumerate(rows) if r["c1"] == "unseen"], :2].sum() == 0
