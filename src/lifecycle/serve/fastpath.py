"""A lean transform equal to the fitted ColumnTransformer, proven row for row at load time.

The pipeline's `predict_proba` on one row spends most of its time in pandas and the
ColumnTransformer's bookkeeping, not in arithmetic. `FastScorer` reads the fitted
statistics (imputer fill values, scaler mean and scale, one-hot categories) and applies the
same IEEE operations in the same order with numpy on plain rows, then calls the fitted final
estimator on the same matrix. It supports the shapes `lifecycle.features.preprocessor` builds
(SimpleImputer, StandardScaler, OneHotEncoder without drop or infrequent categories);
anything else raises `UnsupportedPipelineError`. `verify` compares both paths on synthetic
rows made from the fitted statistics (every category, an unseen one, nulls where allowed,
values spread over several standard deviations) and must find them exactly equal, or the
service falls back to the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.serve.treeflat import UnsupportedTreesError, flatten

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

Row = dict[str, Any]
ROW_WISE_ROWS = 32  # up to this many rows, numeric columns are read row by row
UNSEEN = "\x00unseen-category"


class UnsupportedPipelineError(ValueError):
    """The fitted pipeline has a step the lean path does not reproduce."""


@dataclass(frozen=True)
class NumericBlock:
    """Numeric columns: fill missing with the imputer's statistics, then standardise."""

    columns: tuple[str, ...]
    fill: FloatArray | None
    mean: FloatArray | None
    scale: FloatArray | None

    def apply(self, rows: Sequence[Row]) -> FloatArray:
        """The block's output for these rows, in the fitted operation order."""
        import numpy as np

        if len(rows) <= ROW_WISE_ROWS:  # one conversion beats one per column on few rows
            x = np.array([[r[c] for c in self.columns] for r in rows], dtype=np.float64)
        else:
            x = np.empty((len(rows), len(self.columns)), dtype=np.float64)
            for j, c in enumerate(self.columns):
                x[:, j] = np.array([r[c] for r in rows], dtype=np.float64)
        if self.fill is not None:
            mask = np.isnan(x)
            if mask.any():
                x[mask] = np.broadcast_to(self.fill, x.shape)[mask]
        if self.mean is not None:
            x -= self.mean
        if self.scale is not None:
            x /= self.scale
        return x


@dataclass(frozen=True)
class OneHotBlock:
    """Categorical columns: one-hot known categories; null maps where the imputer sends it."""

    columns: tuple[str, ...]
    lookups: tuple[dict[Any, int], ...]
    width: int
    dtype: Any
    firsts: tuple[int, ...]  # each column's first output column

    def apply(self, rows: Sequence[Row]) -> FloatArray:
        """The one-hot matrix; unknown categories give all zeros (handle_unknown='ignore')."""
        import numpy as np

        out = np.zeros((len(rows), self.width), dtype=self.dtype)
        if len(rows) > ROW_WISE_ROWS:
            return self._by_column(rows, out)
        at_row: list[int] = []
        at_col: list[int] = []
        blocks = zip(self.columns, self.lookups, self.firsts, strict=True)
        slots = [(col, lookup.get, first) for col, lookup, first in blocks]
        for i, row in enumerate(rows):  # one numpy assignment for the whole batch
            for col, get, start in slots:
                j = get(row[col], -1)
                if j >= 0:
                    at_row.append(i)
                    at_col.append(start + j)
        out[at_row, at_col] = 1
        return out

    def _by_column(self, rows: Sequence[Row], out: FloatArray) -> FloatArray:
        """Many rows: each column's codes in one C-level pass, one assignment per column."""
        from itertools import repeat
        from operator import itemgetter

        import numpy as np

        n = len(rows)
        if len(self.columns) == 1:
            columns: Any = [list(map(itemgetter(self.columns[0]), rows))]
        else:  # one tuple per row, transposed: the dict lookups run in C
            columns = zip(*map(itemgetter(*self.columns), rows), strict=True)
        every = np.arange(n)
        for values, lookup, first in zip(columns, self.lookups, self.firsts, strict=True):
            codes = np.fromiter(map(lookup.get, values, repeat(-1)), dtype=np.intp, count=n)
            hit = codes >= 0
            out[every[hit], first + codes[hit]] = 1
        return out


Block = NumericBlock | OneHotBlock


@dataclass(frozen=True)
class FastScorer:
    """Rows -> the fitted transform's matrix -> the final estimator's positive-class score.

    `small` (a boosted model's flat trees, see `treeflat`) answers batches of up to its
    `max_rows` rows; the estimator itself answers larger ones.
    """

    blocks: tuple[Block, ...]
    estimator: Any
    positive_index: int
    small: Any = None

    def transform(self, rows: Sequence[Row]) -> FloatArray:
        """The matrix the ColumnTransformer would produce for these rows."""
        import numpy as np

        parts = [b.apply(rows) for b in self.blocks]
        if len(parts) == 1 and isinstance(self.blocks[0], NumericBlock):
            # a lone numeric block comes back in the scaler's (column) order, and a linear
            # model's BLAS product rounds by memory layout: keep its layout, keep its last bit
            return np.asfortranarray(parts[0])
        return np.hstack(parts) if len(parts) > 1 else parts[0]

    def __call__(self, rows: Sequence[Row]) -> FloatArray:
        """Churn probabilities for these rows."""
        import numpy as np

        small = self.small
        model = small if small is not None and len(rows) <= small.max_rows else None
        proba = (model or self.estimator).predict_proba(self.transform(rows))
        return np.ascontiguousarray(proba[:, self.positive_index], dtype=np.float64)


def _step_list(transformer: Any) -> list[Any]:
    """The steps of a sub-pipeline, or the single estimator as a one-step list."""
    from sklearn.pipeline import Pipeline

    if isinstance(transformer, Pipeline):
        return [step for _, step in transformer.steps if step not in (None, "passthrough")]
    return [transformer]


def _numeric_block(steps: list[Any], columns: tuple[str, ...]) -> NumericBlock:
    """Imputer (numeric) then scaler, each optional, nothing else."""
    import numpy as np
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import StandardScaler

    fill = mean = scale = None
    kinds = [type(s) for s in steps]
    if kinds not in ([SimpleImputer], [StandardScaler], [SimpleImputer, StandardScaler], []):
        raise UnsupportedPipelineError(f"numeric steps {[k.__name__ for k in kinds]}")
    for step in steps:
        if isinstance(step, SimpleImputer):
            stats = np.asarray(step.statistics_, dtype=np.float64)
            missing = step.missing_values
            if step.add_indicator or np.isnan(stats).any():
                raise UnsupportedPipelineError("imputer with indicator or empty features")
            if not (isinstance(missing, float) and np.isnan(missing)):
                raise UnsupportedPipelineError(f"imputer missing_values={missing!r}")
            fill = stats
        else:
            if not (step.with_mean and step.with_std):
                raise UnsupportedPipelineError("scaler without mean or std")
            mean = np.asarray(step.mean_, dtype=np.float64)
            scale = np.asarray(step.scale_, dtype=np.float64)
    return NumericBlock(columns, fill, mean, scale)


def _onehot_block(steps: list[Any], columns: tuple[str, ...]) -> OneHotBlock:
    """An optional constant/most-frequent imputer, then a one-hot encoder ignoring unknowns."""
    from sklearn.impute import SimpleImputer
    from sklearn.preprocessing import OneHotEncoder

    if not steps or not isinstance(steps[-1], OneHotEncoder) or len(steps) > 2:
        raise UnsupportedPipelineError("categorical block is not [imputer] + one-hot")
    enc = steps[-1]
    if enc.drop is not None or enc.handle_unknown != "ignore" or enc.sparse_output:
        raise UnsupportedPipelineError("one-hot with drop, error on unknown, or sparse output")
    if any(getattr(enc, "_infrequent_enabled", False) for _ in (0,)):
        raise UnsupportedPipelineError("one-hot with infrequent categories")
    lookups = [{v: j for j, v in enumerate(cats.tolist())} for cats in enc.categories_]
    if len(steps) == 2:
        imp = steps[0]
        if not isinstance(imp, SimpleImputer) or imp.add_indicator:
            raise UnsupportedPipelineError("categorical imputer")
        for lookup, value in zip(lookups, _imputed_none(imp, len(columns)), strict=True):
            slot = lookup.get(value, -1)
            lookup.pop(None, None)
            if slot >= 0:
                lookup[None] = slot
    spans = tuple(len(c) for c in enc.categories_)
    firsts = tuple(sum(spans[:i]) for i in range(len(spans)))
    return OneHotBlock(columns, tuple(lookups), sum(spans), enc.dtype, firsts)


def _imputed_none(imputer: Any, width: int) -> list[Any]:
    """What the fitted imputer turns a null into, per column (None when it leaves it)."""
    import warnings

    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # fitted on a frame, probed with an array
        out = imputer.transform(np.array([[None] * width], dtype=object))
    return [None if v is None else v for v in out[0].tolist()]


def build_fast(pipeline: Any) -> FastScorer:
    """A lean scorer for a fitted Pipeline(ColumnTransformer, estimator), or refuse."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if not isinstance(pipeline, Pipeline) or len(pipeline.steps) != 2:
        raise UnsupportedPipelineError("not a two-step pipeline")
    prep, estimator = pipeline.steps[0][1], pipeline.steps[1][1]
    if not isinstance(prep, ColumnTransformer):
        raise UnsupportedPipelineError("first step is not a ColumnTransformer")
    blocks: list[Block] = []
    for name, transformer, columns in prep.transformers_:
        if transformer == "drop" or not len(columns):  # an empty block is never fitted
            continue
        if transformer == "passthrough" or not isinstance(columns, list):
            raise UnsupportedPipelineError(f"transformer {name!r}: passthrough or non-name columns")
        steps, cols = _step_list(transformer), tuple(str(c) for c in columns)
        try:
            blocks.append(_onehot_block(steps, cols))
        except UnsupportedPipelineError:
            blocks.append(_numeric_block(steps, cols))
    if not blocks:
        raise UnsupportedPipelineError("no transformer output")
    classes = list(getattr(estimator, "classes_", []))
    if len(classes) != 2 or not hasattr(estimator, "predict_proba"):
        raise UnsupportedPipelineError("estimator is not a binary classifier with predict_proba")
    return FastScorer(tuple(blocks), estimator, 1, _flat_trees(estimator))


def _flat_trees(estimator: Any) -> Any:
    """A boosted model's trees as flat arrays for small batches, or None for another model."""
    try:
        return flatten(estimator)
    except UnsupportedTreesError:
        return None


def pipeline_scorer(
    pipeline: Any, numeric: Sequence[str], categorical: Sequence[str]
) -> Callable[[Sequence[Row]], FloatArray]:
    """The reference path: rows -> a typed DataFrame -> pipeline.predict_proba."""

    def score(rows: Sequence[Row]) -> FloatArray:
        import numpy as np

        frame = rows_frame(rows, numeric, categorical)
        return np.asarray(pipeline.predict_proba(frame)[:, 1], dtype=np.float64)

    return score


def rows_frame(rows: Sequence[Row], numeric: Sequence[str], categorical: Sequence[str]) -> Any:
    """Rows as the frame `lifecycle.features.model_inputs` makes: floats and objects."""
    import numpy as np
    import pandas as pd

    data: dict[str, Any] = {}
    for c in numeric:
        data[c] = np.array([r[c] for r in rows], dtype=np.float64)
    for c in categorical:
        data[c] = pd.Series([r[c] for r in rows], dtype=object)
    return pd.DataFrame(data, columns=[*numeric, *categorical])


def probe_rows(scorer: FastScorer, n: int, nullable: set[str], seed: int = 0) -> list[Row]:
    """Synthetic rows covering every fitted category, unseen ones, nulls and wide numbers."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows: list[Row] = [{} for _ in range(n)]
    for block in scorer.blocks:
        if isinstance(block, NumericBlock):
            centre = block.mean if block.mean is not None else np.zeros(len(block.columns))
            spread = block.scale if block.scale is not None else np.ones(len(block.columns))
            values = centre + spread * rng.normal(0, 2, (n, len(block.columns)))
            for j, col in enumerate(block.columns):
                for i in range(n):
                    rows[i][col] = float(values[i, j])
                if col in nullable:
                    rows[n - 1 - (j % max(n // 4, 1))][col] = None
        else:
            for col, lookup in zip(block.columns, block.lookups, strict=True):
                choices: list[Any] = [*(k for k in lookup if k is not None), UNSEEN]
                if col in nullable:
                    choices.append(None)
                picks = rng.permutation(np.arange(n) % len(choices))
                for i in range(n):
                    rows[i][col] = choices[int(picks[i])]
    return rows


def verify(scorer: FastScorer, pipeline: Any, rows: Sequence[Row], columns: Any) -> str | None:
    """None when both paths give exactly the same matrix and scores, else why not."""
    import numpy as np

    frame = rows_frame(rows, *columns)
    reference = np.asarray(pipeline.steps[0][1].transform(frame), dtype=np.float64)
    mine = scorer.transform(rows)
    if reference.shape != mine.shape or not np.array_equal(reference, mine):
        return "transformed matrix differs from the ColumnTransformer's"
    expected = pipeline_scorer(pipeline, *columns)
    if not np.array_equal(expected(rows), scorer(rows)):
        return "scores differ from pipeline.predict_proba"
    if scorer.small is None:
        return None
    # the small-batch path too: single rows and small chunks, each against the pipeline
    chunks = [rows[i : i + 1] for i in range(min(len(rows), 16))]
    size = scorer.small.max_rows
    chunks += [rows[i : i + size] for i in range(0, len(rows), size)]
    for chunk in chunks:
        if not np.array_equal(expected(chunk), scorer(chunk)):
            return f"small-batch scores ({len(chunk)} rows) differ from pipeline.predict_proba"
    return None


def batch_invariant(score: Callable[[Sequence[Row]], FloatArray], rows: Sequence[Row]) -> bool:
    """Whether a row's score is the same alone as inside a batch (BLAS may make it differ).

    Tree models score each row on its own; a linear model's matrix product can round the last
    bit differently by batch size. Micro-batching is only allowed when this holds, so a
    request's scores always equal the pipeline's on that request's own rows.
    """
    import numpy as np

    whole = score(rows)
    half = len(rows) // 2
    parts = np.concatenate([score(rows[:half]), score(rows[half:])])
    alone = np.array([score(rows[i : i + 1])[0] for i in range(min(len(rows), 16))])
    return bool(np.array_equal(whole, parts) and np.array_equal(whole[: len(alone)], alone))
