"""Is a score a probability? ECE and Brier on the holdout, and isotonic calibration when not.

The estimator reads probabilities: a score that is not calibrated makes a confident wrong
number. `fit_calibration` measures the expected calibration error (equal-count bins) on the
holdout; under `value.calibration: auto` a score whose ECE passes `value.max_ece` is mapped
through an isotonic regression (what scikit-learn's CalibratedClassifierCV does with
method="isotonic", here on the model's scores, so no refit of the model). Its ECE after is
measured out of fold (two seeded halves), and a model still above the bound is `usable=False`:
the estimate then says so instead of printing a number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from lifecycle.config import ValueParams


@dataclass(frozen=True)
class Calibration:
    """How scores become probabilities for one model version, and how well that holds."""

    method: str  # "none" | "isotonic"
    rows: int
    ece_before: float
    ece_after: float
    brier_before: float
    brier_after: float
    max_ece: float
    usable: bool
    reason: str
    knots_x: tuple[float, ...] = field(default=())
    knots_y: tuple[float, ...] = field(default=())

    def apply(self, scores: Any) -> Any:
        """Probabilities for these scores (the scores themselves when no mapping is needed)."""
        import numpy as np

        s = np.asarray(scores, dtype=np.float64)
        if self.method != "isotonic":
            return s
        return np.interp(s, np.asarray(self.knots_x), np.asarray(self.knots_y))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Calibration:
        """Read back what to_dict wrote."""
        raw = {**raw, "knots_x": tuple(raw.get("knots_x", ())),
               "knots_y": tuple(raw.get("knots_y", ()))}  # fmt: skip
        return cls(**raw)


def ece(y: Any, probs: Any, bins: int = 10) -> float:
    """Expected calibration error: the row-weighted gap of mean probability and rate, per bin."""
    import numpy as np

    yy = np.asarray(y, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    if yy.size == 0:
        return float("nan")
    order = np.argsort(p, kind="stable")
    total = 0.0
    for part in np.array_split(order, min(bins, yy.size)):
        total += part.size * abs(float(p[part].mean()) - float(yy[part].mean()))
    return total / yy.size


def brier(y: Any, probs: Any) -> float:
    """Mean squared gap of probability and outcome."""
    import numpy as np

    yy = np.asarray(y, dtype=np.float64)
    p = np.asarray(probs, dtype=np.float64)
    return float(((p - yy) ** 2).mean()) if yy.size else float("nan")


def _isotonic(y: Any, scores: Any) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The isotonic map of scores to outcome rates, as interpolation knots."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(scores, y)
    return tuple(map(float, iso.X_thresholds_)), tuple(map(float, iso.y_thresholds_))


def _out_of_fold_ece(y: Any, s: Any, value: ValueParams) -> tuple[float, float]:
    """ECE and Brier of isotonic calibration, each half mapped by the other half's fit."""
    import numpy as np

    rng = np.random.default_rng(value.seed)
    half = rng.permutation(s.size) < s.size // 2
    probs = np.empty(s.size)
    for fit in (half, ~half):
        kx, ky = _isotonic(y[fit], s[fit])
        probs[~fit] = np.interp(s[~fit], kx, ky)
    return ece(y, probs, value.calibration_bins), brier(y, probs)


def fit_calibration(y: Any, scores: Any, value: ValueParams) -> Calibration:
    """Check the scores' calibration on labelled holdout rows; calibrate per value.calibration."""
    import numpy as np

    yy = np.asarray(y, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    n, bound = int(yy.size), value.max_ece
    if n < value.min_calibration_rows or len(np.unique(yy)) < 2:
        need = value.min_calibration_rows
        why = (f"{n} labelled holdout rows with {len(np.unique(yy))} outcome(s): calibration "
               f"needs value.min_calibration_rows {need} and both outcomes")  # fmt: skip
        nan = float("nan")
        return Calibration("none", n, nan, nan, nan, nan, bound, False, why)
    before, b_before = ece(yy, s, value.calibration_bins), brier(yy, s)
    if value.calibration == "none" or (value.calibration == "auto" and before <= bound):
        ok = before <= bound
        why = (f"scores used as probabilities: holdout ECE {before:.3f} "
               f"{'within' if ok else 'above'} value.max_ece {bound}")  # fmt: skip
        return Calibration("none", n, before, before, b_before, b_before, bound, ok, why)
    after, b_after = _out_of_fold_ece(yy, s, value)
    kx, ky = _isotonic(yy, s)
    ok = after <= bound
    why = (f"isotonic calibration: holdout ECE {before:.3f} -> {after:.3f} out of fold, "
           f"{'within' if ok else 'still above'} value.max_ece {bound}")  # fmt: skip
    return Calibration("isotonic", n, before, after, b_before, b_after, bound, ok, why, kx, ky)
