"""A use case's whole params mapping: the project's params with every data-bound key derived."""

from __future__ import annotations

import copy
import math
import re
from typing import Any

from lifecycle.profile.table import ColumnProfile, TableProfile

SENSITIVE_HINTS = re.compile(
    r"(sex|gender|female|male|race|ethnic|religio|age|senior|marital|married|nation|foreign|"
    r"disab|afam|black|white)",
    re.IGNORECASE,
)
HOLDOUT_POSITIVES = 100  # positives the holdout should hold to judge a promotion
WINDOW_POSITIVES = 50  # positives a retrain window's holdout should hold
MONTH_ROWS = 200  # at least this many rows in a simulated month (fewer months on small tables)
PVALUE_ROWS = 20_000  # from this many rows on, drift is judged by effect size (PSI), not p-values


def use_case_params(
    name: str, source: str, profile: TableProfile, base: dict[str, Any]
) -> dict[str, Any]:
    """The project's params (base) with this table's data, rules and derived defaults."""
    raw = copy.deepcopy(base)
    numeric, categorical = profile.of_kind("numeric"), profile.of_kind("categorical")
    raw["project"] = {"name": name}
    raw["data"] = {
        "source": source,
        "query": None,
        "rename": {},
        "id_column": profile.id_column,
        "target": profile.target,
        "positive_label": profile.labels[1],
        "numeric": [c.name for c in numeric],
        "categorical": [c.name for c in categorical],
        "cast": {c.name: "text" for c in categorical if c.integer_coded},
        "group_column": None,
    }
    raw["validation"] = _validation(profile, numeric, categorical)
    raw["simulation"] = _simulation(raw.get("simulation", {}), profile, numeric, categorical)
    raw["split"] = {**raw.get("split", {}), "holdout_size": holdout_size(profile)}
    raw["train"] = {**raw["train"], "threshold": round(profile.base_rate, 4)}
    raw["campaign"] = {**raw["campaign"], "capacity_share": capacity_share(profile)}
    raw["mlflow"] = {"experiment": name, "model_name": name}
    raw["drift"] = {**raw.get("drift", {}), **_drift(profile)}
    raw["retrain"] = {**raw.get("retrain", {}), **_retrain(profile, raw["split"]["holdout_size"])}
    raw["orchestration"] = {**raw.get("orchestration", {}), "monitor_scenario": None}
    raw["fairness"] = {**raw.get("fairness", {}), "enabled": False, "sensitive": []}
    # the behavioural gate keeps its invariance and edge-case tests (any table); directions and
    # slices name the default table's columns, so a person writes this table's (see the report)
    raw["behaviour"] = {**raw.get("behaviour", {}), "directional": [], "slices": []}
    serving = raw.get("serving", {})
    raw["serving"] = {**serving, "threshold": None}
    return raw


def holdout_size(profile: TableProfile) -> float:
    """Enough rows to hold about HOLDOUT_POSITIVES positives, between 20% and 40% of the table."""
    return round(min(0.4, max(0.2, HOLDOUT_POSITIVES / profile.positives)), 2)


def capacity_share(profile: TableProfile) -> float:
    """Contact about twice the base rate (every positive has room), between 5% and 50%."""
    return round(min(0.5, max(0.05, 2 * profile.base_rate)), 3)


def sensitive_candidates(profile: TableProfile) -> list[str]:
    """Columns whose names suggest a protected attribute (for a person to confirm)."""
    return [c.name for c in profile.columns if SENSITIVE_HINTS.search(c.name)]


def _validation(
    profile: TableProfile,
    numeric: tuple[ColumnProfile, ...],
    categorical: tuple[ColumnProfile, ...],
) -> dict[str, Any]:
    """Ranges with a margin, the categories seen, null shares with room."""
    nulls = {
        c.name: round(min(1.0, 2 * c.null_rate + 0.01), 3)
        for c in (*numeric, *categorical)
        if c.null_rate > 0
    }
    return {
        "min_rows": max(10, _month_rows(profile) // 2),
        "max_null_fraction": nulls,
        "ranges": {c.name: list(_margin(c)) for c in numeric},
        "categories": {c.name: list(c.categories) for c in categorical},
        "target_labels": list(profile.labels),
    }


def _margin(col: ColumnProfile) -> tuple[float, float]:
    """The seen range widened by half its width each way (not below 0 for a non-negative one)."""
    low, high = float(col.low or 0.0), float(col.high or 0.0)
    if (low, high) == (0.0, 1.0):  # a flag stays a flag
        return (0.0, 1.0)
    pad = max((high - low) * 0.5, 1.0)
    lo = low - pad if low < 0 else max(0.0, low - pad)
    return (_round(lo, math.floor), _round(high + pad, math.ceil))


def _round(value: float, how: Any) -> float:
    """Two significant figures, rounded outward."""
    if value == 0:
        return 0.0
    step = 10 ** (math.floor(math.log10(abs(value))) - 1)
    return float(how(value / step) * step)


def _months(profile: TableProfile, reference_fraction: float) -> int:
    """Up to six simulated months of at least MONTH_ROWS rows each (one on a small table)."""
    later = profile.rows * (1 - reference_fraction)
    return int(max(1, min(6, later // MONTH_ROWS)))


def _month_rows(profile: TableProfile, reference_fraction: float = 0.55) -> int:
    """Rows one simulated month holds."""
    return int(profile.rows * (1 - reference_fraction) // _months(profile, reference_fraction))


def _simulation(
    base: dict[str, Any],
    profile: TableProfile,
    numeric: tuple[ColumnProfile, ...],
    categorical: tuple[ColumnProfile, ...],
) -> dict[str, Any]:
    """Seeded months sized to the table; one scenario of each kind the columns allow."""
    fraction = float(base.get("reference_fraction", 0.55))
    scenarios: dict[str, Any] = {}
    if numeric:
        first = numeric[0].name
        scenarios[f"{first}_shift"] = {"kind": "scale", "column": first, "factor": 1.35}
        scenarios[f"{first}_relation"] = {"kind": "relation", "column": first, "strength": 0.9}
    if categorical:
        col = categorical[0]
        scenarios[f"{col.name}_mix"] = {
            "kind": "category_mix", "column": col.name, "value": col.categories[0], "share": 0.85
        }  # fmt: skip
        scenarios[f"{col.name}_new"] = {
            "kind": "new_category", "column": col.name, "value": "unseen", "share": 0.25
        }  # fmt: skip
    months = _months(profile, fraction)
    return {
        "seed": base.get("seed", 7),
        "reference_fraction": fraction,
        "months": months,
        "scenarios": scenarios,
        "drift_from_month": min(int(base.get("drift_from_month", 2)), months),
    }


def _drift(profile: TableProfile) -> dict[str, Any]:
    """Two drifting features call drift on a wide table; effect sizes decide at large row counts."""
    features = len(profile.of_kind("numeric")) + len(profile.of_kind("categorical"))
    large = profile.rows >= PVALUE_ROWS
    return {
        "drift_share": round(min(0.3, max(2 / features, 0.05)), 3),
        "numeric_test": "psi" if large else "ks",
        "categorical_test": "psi" if large else "chi2",
    }


def _retrain(profile: TableProfile, holdout: float) -> dict[str, Any]:
    """A window whose holdout holds about WINDOW_POSITIVES positives (never more than the table)."""
    window = math.ceil(WINDOW_POSITIVES / (profile.base_rate * holdout))
    window = int(min(profile.rows, max(200, window)))
    return {"window_rows": window, "min_new_labelled_rows": min(window, 500)}
