"""Data tests: the GX suite passes the real table and names every corruption; nothing is lost."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.config import Params
from lifecycle.ingest import read_source
from lifecycle.paths import Paths
from lifecycle.validate import ValidationFailedError, validate_file, validate_frame

Corrupt = Callable[[pd.DataFrame, Params], pd.DataFrame]


@pytest.fixture(scope="module")
def batch(params: Params) -> pd.DataFrame:
    table = read_source(params.data).rename(columns=params.data.rename)
    return table.head(800).reset_index(drop=True)


def _drop_column(df: pd.DataFrame, p: Params) -> pd.DataFrame:
    return df.drop(columns=[p.data.categorical[0]])


def _wrong_dtype(df: pd.DataFrame, p: Params) -> pd.DataFrame:
    return df.assign(**{p.data.numeric[0]: df[p.data.numeric[0]].astype(str)})


def _nulls(df: pd.DataFrame, p: Params) -> pd.DataFrame:
    out = df.copy()
    out.loc[out.index[:40], p.data.numeric[0]] = None
    return out


def _out_of_range(df: pd.DataFrame, p: Params) -> pd.DataFrame:
    col, (low, _high) = next(iter(p.validation.ranges.items()))
    out = df.copy()
    out.loc[out.index[:3], col] = low - 100
    return out


def _unknown_category(df: pd.DataFrame, p: Params) -> pd.DataFrame:
    col = next(iter(p.validation.categories))
    out = df.copy()
    out.loc[out.index[5], col] = "Lifetime deal"
    return out


def _duplicate_ids(df: pd.DataFrame, p: Params) -> pd.DataFrame:
    out = df.copy()
    out.loc[out.index[1], p.data.id_column] = out.loc[out.index[0], p.data.id_column]
    return out


def _no_rows(df: pd.DataFrame, p: Params) -> pd.DataFrame:
    return df.head(0)


def _three_labels(df: pd.DataFrame, p: Params) -> pd.DataFrame:
    out = df.copy()
    out.loc[out.index[:2], p.data.target] = "Maybe"
    return out


CASES: list[tuple[str, Corrupt, str]] = [
    ("missing column", _drop_column, "column must exist"),
    ("wrong dtype", _wrong_dtype, "dtype in"),
    ("nulls over threshold", _nulls, "not null"),
    ("out of range", _out_of_range, "between"),
    ("unknown category", _unknown_category, "'Lifetime deal'"),
    ("duplicate ids", _duplicate_ids, "unique"),
    ("no rows", _no_rows, "at least"),
    ("three labels", _three_labels, "'Maybe'"),
]


def test_clean_batch_passes(params: Params, batch: pd.DataFrame) -> None:
    report = validate_frame(batch, params, "clean")
    assert report.success and not report.failures
    assert report.expectations > 3 * len(params.data.features)


@pytest.mark.parametrize(("case", "corrupt", "needle"), CASES, ids=[c[0] for c in CASES])
def test_each_corruption_is_named(
    params: Params, batch: pd.DataFrame, case: str, corrupt: Corrupt, needle: str
) -> None:
    report = validate_frame(corrupt(batch, params), params, case.replace(" ", "_"))
    assert not report.success
    text = "\n".join(f.describe() for f in report.failures)
    assert needle in text, text


def test_failed_batch_is_quarantined_whole(
    project: Path, params: Params, batch: pd.DataFrame
) -> None:
    paths = Paths(project)
    bad = _unknown_category(_duplicate_ids(batch, params), params)
    ids = bad[params.data.id_column]
    secret = 987654321 if pd.api.types.is_numeric_dtype(ids) else "CUST-987654321"
    bad.loc[bad.index[:2], params.data.id_column] = secret  # a duplicate easy to search for
    source = project / "month_03.parquet"
    bad.to_parquet(source, index=False)
    with pytest.raises(ValidationFailedError) as caught:
        validate_file(source, params, paths)
    message = str(caught.value)
    assert "batch 'month_03' failed validation: 2 of" in message
    assert f"column {params.data.id_column!r}: unique failed for 2 row(s)" in message
    where = paths.quarantine / "month_03"
    kept = pd.read_parquet(where / "month_03.parquet")
    assert kept.equals(pd.read_parquet(source))
    result = json.loads((where / "result.json").read_text())
    assert result["success"] is False and len(result["failures"]) == 2
    assert (where / "data_docs" / "index.html").is_file()
    # the data docs show the broken rules and the category's example, never the duplicated id
    docs = " ".join(p.read_text() for p in (where / "data_docs").rglob("*.html"))
    assert "Lifetime deal" in docs
    assert "987654321" not in docs
    # a second failure of the same batch keeps the first quarantine too
    with pytest.raises(ValidationFailedError):
        validate_file(source, params, paths)
    assert len(list(paths.quarantine.glob("month_03*"))) == 2


@pytest.mark.parametrize("body", [b"", b"PAR1 truncated"])
def test_unreadable_batch_is_one_line_and_quarantined(
    project: Path, params: Params, body: bytes
) -> None:
    paths = Paths(project)
    source = project / "month_04.parquet"
    source.write_bytes(body)
    with pytest.raises(ValidationFailedError) as caught:
        validate_file(source, params, paths)
    message = str(caught.value)
    assert len(message.splitlines()) == 1, message
    assert message.startswith("batch 'month_04' is not a readable Parquet table (")
    assert ("0 bytes" in message) == (not body)
    where = paths.quarantine / "month_04"
    assert (where / "month_04.parquet").read_bytes() == body
    result = json.loads((where / "result.json").read_text())
    assert result["success"] is False and result["failures"][0]["column"] == "<file>"
