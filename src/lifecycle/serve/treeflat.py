"""A fitted HistGradientBoostingClassifier as flat arrays, walked by numpy for small batches.

scikit-learn predicts a boosted model one tree at a time: 200 trees cost 200 Python-level
calls and allocations, about 1.7 ms whether the batch holds 1 row or 32. For the small
batches a service sees, `FlatBoostedTrees` stacks every tree's nodes into one set of arrays
and walks all trees for all rows together, one numpy step per tree level, then adds the leaf
values tree by tree in sklearn's own order (a sequential cumulative sum from the baseline)
and applies the model's own link function. Same comparisons (`x <= threshold`, NaN follows
`missing_go_to_left`), same additions in the same order: the scores are bit-for-bit
sklearn's, and `fastpath.verify` proves it on probe rows at load. Models with categorical
splits or more than one tree per iteration are refused. (A random forest is served through
its ONNX graph instead: see `onnx_scorer`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.intp]
    BoolArray = npt.NDArray[np.bool_]

# above this many rows sklearn's compiled per-tree loop is faster than the numpy walk
SMALL_BATCH_ROWS = 64


class UnsupportedTreesError(ValueError):
    """The estimator is not a boosted model this walk reproduces exactly."""


@dataclass(frozen=True)
class FlatBoostedTrees:
    """Every tree's nodes in one array set; leaves point at themselves."""

    roots: IntArray
    feature: IntArray
    threshold: FloatArray
    nan_left: BoolArray
    left: IntArray
    right: IntArray
    value: FloatArray
    depth: int
    baseline: float
    estimator: Any
    max_rows: int = SMALL_BATCH_ROWS  # larger batches go to the estimator
    inline_rows: int = SMALL_BATCH_ROWS // 4  # batches this small cost well under a ms

    def raw(self, x: FloatArray) -> FloatArray:
        """The raw prediction of each row: baseline plus every tree's leaf, summed in order."""
        import numpy as np

        n = x.shape[0]
        node = _leaves(self, np.ascontiguousarray(x))
        terms = np.empty((n, self.roots.size + 1), dtype=np.float64)
        terms[:, 0] = self.baseline
        terms[:, 1:] = self.value.take(node)
        return np.add.accumulate(terms, axis=1)[:, -1:]

    def predict_proba(self, x: FloatArray) -> FloatArray:
        """Class probabilities, through the estimator's own loss (its own link function)."""
        proba: FloatArray = self.estimator._loss.predict_proba(self.raw(x))
        return proba


def _leaves(trees: FlatBoostedTrees, x: FloatArray) -> IntArray:
    """The leaf each row reaches in each tree: one numpy step per level, all trees at once.

    `x <= threshold` sends a row left, as sklearn compares; a NaN goes where `nan_left` says.
    """
    import numpy as np

    n, width = x.shape
    flat = x.ravel()
    starts = (np.arange(n) * width)[:, None]
    node: IntArray = np.broadcast_to(trees.roots, (n, trees.roots.size)).copy()
    gaps = bool(np.isnan(flat).any())
    for _ in range(trees.depth):
        values = flat.take(starts + trees.feature.take(node))
        go_left = values <= trees.threshold.take(node)  # False for NaN
        if gaps:
            go_left |= np.isnan(values) & trees.nan_left.take(node)
        node = np.where(go_left, trees.left.take(node), trees.right.take(node))
    return node


def flatten(estimator: Any) -> FlatBoostedTrees:
    """Stack a fitted binary HistGradientBoostingClassifier's trees, or refuse."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    if type(estimator) is not HistGradientBoostingClassifier:
        raise UnsupportedTreesError(f"{type(estimator).__name__} is not a boosted classifier")
    if estimator.n_trees_per_iteration_ != 1:
        raise UnsupportedTreesError("more than one tree per iteration (multi-class)")
    baseline = np.asarray(estimator._baseline_prediction, dtype=np.float64).ravel()
    if baseline.size != 1:
        raise UnsupportedTreesError("baseline is not one value")
    trees = [p.nodes for (p,) in estimator._predictors]
    if any(t["is_categorical"].any() for t in trees):
        raise UnsupportedTreesError("categorical splits")
    offsets = np.cumsum([0] + [len(t) for t in trees[:-1]])
    nodes = np.concatenate(trees)
    own = np.arange(len(nodes))
    shift = np.repeat(offsets, [len(t) for t in trees])
    leaf = nodes["is_leaf"].astype(bool)
    return FlatBoostedTrees(
        roots=offsets.astype(np.intp),
        feature=np.where(leaf, 0, nodes["feature_idx"]).astype(np.intp),
        threshold=nodes["num_threshold"].astype(np.float64),
        nan_left=nodes["missing_go_to_left"].astype(bool),
        left=np.where(leaf, own, nodes["left"].astype(np.intp) + shift),
        right=np.where(leaf, own, nodes["right"].astype(np.intp) + shift),
        value=nodes["value"].astype(np.float64),
        depth=int(nodes["depth"].max()),
        baseline=float(baseline[0]),
        estimator=estimator,
    )
