"""A random forest served through ONNX Runtime, accepted only within a tolerance of sklearn.

scikit-learn scores a forest one tree at a time through joblib (about 17 ms even for one row);
onnxruntime's TreeEnsemble walks all trees in compiled code. The graph is the whole pipeline
(`portable.to_onnx`: one input per feature column), so `OnnxScorer` feeds it the same record
dicts the fast path takes: numbers as [n, 1] doubles (None as NaN), categories as [n, 1]
strings (None as ''). ONNX sums tree outputs in its own order, so its scores differ from
`predict_proba` in the last bits: `verify_onnx` accepts the graph only when every probe row is
within `release.onnx_tolerance`, or the service keeps sklearn's scores.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]

Row = dict[str, Any]
INLINE_ROWS = 8  # a forest's ONNX call on this many rows stays well under a millisecond


@dataclass(frozen=True)
class OnnxScorer:
    """Rows -> one onnxruntime session (one intra-op thread) -> positive-class scores."""

    session: Any
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    output: str
    max_abs_diff: float
    inline_rows: int = INLINE_ROWS

    def feed(self, rows: Sequence[Row]) -> dict[str, Any]:
        """Each feature column as the [n, 1] array the graph's input of that name takes."""
        import numpy as np

        n = len(rows)
        feed: dict[str, Any] = {}
        for c in self.numeric:  # None -> NaN, as float64 conversion of an object column does
            values = [r[c] for r in rows]
            feed[c] = np.array(
                [np.nan if v is None else v for v in values], dtype=np.float64
            ).reshape(n, 1)
        for c in self.categorical:  # None -> '' (the converted imputers look for '')
            strings = ["" if r[c] is None else str(r[c]) for r in rows]
            feed[c] = np.array(strings, dtype=object).reshape(n, 1)
        return feed

    def __call__(self, rows: Sequence[Row]) -> FloatArray:
        """Churn probabilities for these rows."""
        import numpy as np

        out = self.session.run([self.output], self.feed(rows))[0]
        return np.ascontiguousarray(np.asarray(out, dtype=np.float64)[:, 1])


def is_forest(pipeline: Any) -> bool:
    """Whether the pipeline's final estimator is a random forest (the family served by ONNX)."""
    from sklearn.ensemble import RandomForestClassifier

    steps: list[Any] = getattr(pipeline, "steps", None) or []
    return bool(steps) and type(steps[-1][1]) is RandomForestClassifier


def build_onnx(blob: bytes, numeric: Sequence[str], categorical: Sequence[str]) -> OnnxScorer:
    """One session over the graph's bytes, built once per loaded model."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # the service's threads and workers share the cores
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(blob, options, providers=["CPUExecutionProvider"])
    inputs = {i.name for i in session.get_inputs()}
    missing = [c for c in (*numeric, *categorical) if c not in inputs]
    if missing:
        raise ValueError(f"the ONNX graph has no input for {missing}")
    output = session.get_outputs()[-1].name  # the probabilities (no zipmap)
    return OnnxScorer(session, tuple(numeric), tuple(categorical), output, float("nan"))


def verify_onnx(
    scorer: OnnxScorer,
    reference: Callable[[Sequence[Row]], FloatArray],
    rows: Sequence[Row],
    tolerance: float,
) -> tuple[OnnxScorer | None, str]:
    """The scorer with its measured max |diff| when every probe row is within the tolerance.

    Checked on the whole probe set, on single rows and on odd-sized chunks, so a batch size
    cannot move a score out of tolerance.
    """
    import dataclasses

    import numpy as np

    chunks = [list(rows)] + [list(rows[i : i + 1]) for i in range(min(len(rows), 16))]
    chunks += [list(rows[i : i + 37]) for i in range(0, len(rows), 37)]
    worst = 0.0
    for chunk in chunks:
        diff = float(np.max(np.abs(scorer(chunk) - reference(chunk))))
        if not diff <= tolerance:  # NaN fails too
            return None, f"ONNX scores differ by {diff:.2e} > {tolerance:.0e} ({len(chunk)} rows)"
        worst = max(worst, diff)
    return dataclasses.replace(scorer, max_abs_diff=worst), (
        f"max |diff| {worst:.2e} <= {tolerance:.0e} on {len(rows)} probe rows"
    )
