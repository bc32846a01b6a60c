"""How columns are read before anything else sees them: the casts that params.yaml declares."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lifecycle.config import DataParams

if TYPE_CHECKING:
    import pandas as pd


def cast_columns(df: pd.DataFrame, data: DataParams) -> pd.DataFrame:
    """Apply data.cast: integer-coded categories as text ("1", not "1.0"), text as numbers."""
    import pandas as pd

    todo = {c: k for c, k in data.cast.items() if c in df.columns}
    if not todo:
        return df
    out = df.copy()
    for col, kind in todo.items():
        values = out[col]
        if kind == "number":
            if not pd.api.types.is_numeric_dtype(values.dtype):
                out[col] = pd.to_numeric(values, errors="coerce")
            continue
        out[col] = values.map(_as_text, na_action="ignore").astype(object)
    return out


def _as_text(value: object) -> object:
    """One category code as text: 2 and 2.0 both become "2"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
