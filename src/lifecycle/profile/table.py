"""What each column of a table is: its role, type, range, categories and null rate."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from lifecycle.config import LOG_FIELDS

if TYPE_CHECKING:
    import pandas as pd

Kind = Literal["numeric", "categorical", "skipped"]
MAX_CATEGORIES = 50  # a text column with more distinct values is an identifier or free text
MAX_CODES = 10  # an integer column coded 1..k with k up to this reads as categories
MIN_CLASS_ROWS = 10  # each side of the split needs at least this many rows of each label
ID_NAMES = ("id", "rownames")


class ProfileError(ValueError):
    """A table that cannot become a use case, named with what is wrong."""


@dataclass(frozen=True)
class ColumnProfile:
    """One feature column as the profile sees it."""

    name: str
    kind: Kind
    dtype: str
    null_rate: float
    low: float | None = None
    high: float | None = None
    categories: tuple[str, ...] = ()
    integer_coded: bool = False
    note: str = ""


@dataclass(frozen=True)
class TableProfile:
    """A table's rows, id, target and feature columns."""

    rows: int
    id_column: str
    target: str
    labels: tuple[str | int, str | int]  # (negative, positive)
    positives: int
    columns: tuple[ColumnProfile, ...] = field(default_factory=tuple)

    @property
    def base_rate(self) -> float:
        """Share of rows with the positive label."""
        return self.positives / self.rows

    def of_kind(self, kind: Kind) -> tuple[ColumnProfile, ...]:
        """The columns of one kind, in table order."""
        return tuple(c for c in self.columns if c.kind == kind)


def profile_table(
    df: pd.DataFrame,
    target: str,
    positive: str,
    id_column: str | None = None,
    categorical: tuple[str, ...] = (),
) -> TableProfile:
    """Profile a table for a binary target; refuse what cannot make a use case."""
    if df.empty:
        raise ProfileError("--source: the table has no rows")
    if target not in df.columns:
        raise ProfileError(f"--target: column {target!r} is not in the table {_names(df)}")
    labels, positive_label = _labels(df[target], target, positive)
    ident = _id_column(df, id_column, target)
    unknown = sorted(set(categorical) - set(map(str, df.columns)))
    if unknown:
        raise ProfileError(f"--categorical: column(s) {unknown} are not in the table")
    y = df[target].astype(str) == str(positive_label)
    positives, negatives = int(y.sum()), int((~y).sum())
    if min(positives, negatives) < 4 * MIN_CLASS_ROWS:
        raise ProfileError(
            f"--source: {len(df)} rows ({positives} positive, {negatives} negative) are too few "
            f"for a holdout: each label needs at least {4 * MIN_CLASS_ROWS} rows"
        )
    columns = tuple(
        _column(df[c], str(c), str(c) in categorical)
        for c in df.columns
        if str(c) not in (ident, target)
    )
    if not any(c.kind != "skipped" for c in columns):
        raise ProfileError("--source: no column can be a feature (all skipped: see the report)")
    negative = next(v for v in labels if str(v) != str(positive_label))
    return TableProfile(len(df), ident, target, (negative, positive_label), positives, columns)


def _names(df: pd.DataFrame) -> list[str]:
    """The table's column names, for messages."""
    return sorted(map(str, df.columns))[:40]


def _labels(values: pd.Series, target: str, positive: str) -> tuple[list[Any], str | int]:
    """The two labels of the target, and the positive one in the column's own type."""
    if values.isna().any():
        raise ProfileError(f"--target: {int(values.isna().sum())} row(s) of {target!r} are empty")
    seen = sorted(values.unique().tolist(), key=str)
    if len(seen) != 2:
        shown = [_plain(v) for v in seen[:10]]
        raise ProfileError(f"--target: {target!r} has {len(seen)} values {shown}; need exactly 2")
    match = [v for v in seen if str(v) == str(positive)]
    if not match:
        raise ProfileError(
            f"--positive: {positive!r} is not a value of {target!r} {[_plain(v) for v in seen]}"
        )
    return [_plain(v) for v in seen], _plain(match[0])


def _id_column(df: pd.DataFrame, given: str | None, target: str) -> str:
    """The given id column (checked unique), else the first unique column named like an id."""
    if given is not None:
        if given not in df.columns:
            raise ProfileError(f"--id-column: column {given!r} is not in the table {_names(df)}")
        if df[given].isna().any() or not df[given].is_unique:
            raise ProfileError(f"--id-column: {given!r} has empty or repeated values")
        return given
    for c in map(str, df.columns):
        low = c.lower()
        named = low in ID_NAMES or low.endswith("_id")
        if c != target and named and df[c].notna().all() and df[c].is_unique:
            return c
    raise ProfileError(
        "--id-column: no unique column named like an id (id, *_id, rownames); name one"
    )


def _column(values: pd.Series, name: str, as_category: bool) -> ColumnProfile:
    """One column's kind and statistics."""
    import pandas as pd

    dtype = str(values.dtype)
    nulls = float(values.isna().mean())
    known = values.dropna()
    if name in LOG_FIELDS:
        return ColumnProfile(name, "skipped", dtype, nulls, note="name reserved by the log")
    if known.nunique() <= 1:
        return ColumnProfile(name, "skipped", dtype, nulls, note="constant (or empty)")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return ColumnProfile(name, "skipped", dtype, nulls, note="a date: derive features first")
    numeric = pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(
        values.dtype
    )
    if numeric and not pd.api.types.is_bool_dtype(values.dtype):
        coded = _integer_codes(known)
        if as_category or coded:
            cats = tuple(sorted({_text(v) for v in known.tolist()}, key=_code_order))
            note = "integer-coded categories" if coded else "declared categorical"
            return ColumnProfile(name, "categorical", dtype, nulls, None, None, cats, True, note)
        low, high = float(known.min()), float(known.max())
        return ColumnProfile(name, "numeric", dtype, nulls, low, high)
    if numeric:  # booleans: 0/1 numbers
        return ColumnProfile(name, "numeric", dtype, nulls, 0.0, 1.0)
    distinct = known.astype(str).unique().tolist()
    if len(distinct) > MAX_CATEGORIES:
        note = f"{len(distinct)} distinct values: an identifier or free text"
        return ColumnProfile(name, "skipped", dtype, nulls, note=note)
    return ColumnProfile(name, "categorical", dtype, nulls, categories=tuple(sorted(distinct)))


def _integer_codes(known: pd.Series) -> bool:
    """Whole numbers 1..k (3 <= k <= MAX_CODES), every code used: categories, not a count."""
    values = known.to_numpy(dtype=float)
    if not all(float(v).is_integer() for v in values):
        return False
    codes = {int(v) for v in values}
    return 3 <= len(codes) <= MAX_CODES and codes == set(range(1, len(codes) + 1))


def _text(value: Any) -> str:
    """A code as text: 2 and 2.0 both "2" (as `lifecycle.columns.cast_columns` reads them)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _code_order(code: str) -> tuple[float, str]:
    """Numeric codes in number order, others after them."""
    try:
        return (float(code), code)
    except ValueError:
        return (math.inf, code)


def _plain(value: Any) -> Any:
    """numpy scalars as Python values (for YAML and messages)."""
    return value.item() if hasattr(value, "item") else value
