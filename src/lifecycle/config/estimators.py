"""The hyperparameters each candidate family accepts, declared so params.yaml fails at load.

A typo or `C: -1` would otherwise surface minutes later as a long scikit-learn traceback that
does not name the params key. Importing scikit-learn to ask it costs about 2 s on every command,
so the keys and the numeric ranges are declared here; a unit test checks them against the
installed estimators' `get_params()` and `_parameter_constraints`.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any


class KeyedValueError(ValueError):
    """A broken rule inside a mapping field: the loader adds `key` to the path it prints."""

    def __init__(self, key: str, value: Any, rule: str) -> None:
        super().__init__(f"{key} = {value!r}: {rule}")
        self.key, self.value, self.rule = key, value, rule


@dataclass(frozen=True)
class Bound:
    """A numeric range: the value's kind and its limits (None: unbounded on that side)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    nullable: bool = False

    def rule(self) -> str:
        """The range in words, for the error message."""
        kind = "an integer" if self.integer else "a number"
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        ranged = f"{kind} {' and '.join(parts)}" if parts else kind
        return ranged + (" (or null)" if self.nullable else "")

    def accepts(self, value: Any) -> bool:
        """Whether value is of the right kind and inside the range."""
        if value is None:
            return self.nullable
        if isinstance(value, bool) or not isinstance(value, Integral if self.integer else Real):
            return False
        v = float(value)
        if self.low is not None and (v <= self.low if self.low_open else v < self.low):
            return False
        return not (self.high is not None and (v >= self.high if self.high_open else v > self.high))


POS = Bound(low=0, low_open=True)
NONNEG = Bound(low=0)
POS_INT = Bound(low=1, integer=True)
NONNEG_INT = Bound(low=0, integer=True)
UNIT = Bound(low=0, high=1)
ANY = None  # a key the family accepts whose value scikit-learn checks (strings, dicts, ...)

FAMILY_PARAMS: dict[str, dict[str, Bound | None]] = {
    "logistic_regression": {
        "penalty": ANY,
        "C": POS,
        "l1_ratio": Bound(low=0, high=1, nullable=True),
        "dual": ANY,
        "tol": NONNEG,
        "fit_intercept": ANY,
        "intercept_scaling": POS,
        "class_weight": ANY,
        "random_state": ANY,
        "solver": ANY,
        "max_iter": NONNEG_INT,
        "verbose": ANY,
        "warm_start": ANY,
        "n_jobs": Bound(integer=True, nullable=True),
    },
    "hist_gradient_boosting": {
        "loss": ANY,
        "learning_rate": POS,
        "max_iter": POS_INT,
        "max_leaf_nodes": Bound(low=2, integer=True, nullable=True),
        "max_depth": Bound(low=1, integer=True, nullable=True),
        "min_samples_leaf": POS_INT,
        "l2_regularization": NONNEG,
        "max_features": Bound(low=0, high=1, low_open=True),
        "monotonic_cst": ANY,
        "interaction_cst": ANY,
        "n_iter_no_change": POS_INT,
        "validation_fraction": ANY,
        "tol": NONNEG,
        "max_bins": Bound(low=2, high=255, integer=True),
        "categorical_features": ANY,
        "warm_start": ANY,
        "early_stopping": ANY,
        "scoring": ANY,
        "verbose": ANY,
        "random_state": ANY,
        "class_weight": ANY,
    },
    "random_forest": {
        "n_estimators": POS_INT,
        "bootstrap": ANY,
        "oob_score": ANY,
        "n_jobs": Bound(integer=True, nullable=True),
        "random_state": ANY,
        "verbose": ANY,
        "warm_start": ANY,
        "max_samples": ANY,
        "max_depth": Bound(low=1, integer=True, nullable=True),
        "min_samples_split": ANY,
        "min_samples_leaf": ANY,
        "min_weight_fraction_leaf": Bound(low=0, high=0.5),
        "max_features": ANY,
        "max_leaf_nodes": Bound(low=2, integer=True, nullable=True),
        "min_impurity_decrease": NONNEG,
        "ccp_alpha": NONNEG,
        "monotonic_cst": ANY,
        "criterion": ANY,
        "class_weight": ANY,
    },
}


def check_candidate_params(family: str, params: dict[str, Any]) -> None:
    """Raise KeyedValueError naming the first unknown key or out-of-range value of the params."""
    known = FAMILY_PARAMS.get(family)
    if known is None:
        return  # the family itself is checked by its Literal type
    for key, value in params.items():
        if key not in known:
            rule = f"not a hyperparameter of {family}; expected one of {sorted(known)}"
            raise KeyedValueError(key, value, rule)
        bound = known[key]
        if bound is not None and not bound.accepts(value):
            raise KeyedValueError(key, value, f"{family} needs {bound.rule()}")
