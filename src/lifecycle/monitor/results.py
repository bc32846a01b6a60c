"""What a drift check finds: per-feature drift, score drift, performance, the whole report."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from lifecycle.monitor.errors import MonitorError

ColumnKind = Literal["numeric", "categorical"]
TestName = Literal["ks", "chi2", "psi"]
Verdict = Literal["ok", "drift", "decay", "drift_and_decay", "insufficient"]


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's drift: every statistic, the deciding test and its verdict (None: too small)."""

    column: str
    kind: ColumnKind
    test: TestName
    reference_rows: int
    current_rows: int
    drifted: bool | None
    psi: float | None = None
    ks_statistic: float | None = None
    ks_pvalue: float | None = None
    chi2_statistic: float | None = None
    chi2_pvalue: float | None = None
    missing_reference: float = 0.0
    missing_current: float = 0.0
    unseen_share: float | None = None
    unseen_values: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    @property
    def drift_score(self) -> float:
        """The comparable size of the drift (PSI, or the missing/unseen share when larger)."""
        parts = [self.psi or 0.0, self.missing_current - self.missing_reference]
        if self.unseen_share is not None:
            parts.append(self.unseen_share)
        return float(max(parts))


@dataclass(frozen=True)
class ScoreDrift:
    """Drift of the model's scores between the reference and the window."""

    reference_rows: int
    current_rows: int
    drifted: bool | None
    psi: float | None = None
    ks_statistic: float | None = None
    ks_pvalue: float | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class PerformanceBaseline:
    """The champion's holdout figures that a labelled window is judged against."""

    roc_auc: float
    profit_per_customer: float | None = None

    @classmethod
    def from_metrics_file(cls, path: Path) -> PerformanceBaseline:
        """Read roc_auc (and profit_per_customer) from a metrics JSON, flat or under a section."""
        if not path.is_file():
            raise MonitorError(f"baseline: metrics file {str(path)!r} does not exist")
        try:
            raw = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise MonitorError(f"baseline: {str(path)!r} is not valid JSON: {err}") from None
        found = _find_metrics(raw)
        if found is None:
            raise MonitorError(f"baseline: {str(path)!r} holds no numeric 'roc_auc' figure")
        ppc = found.get("profit_per_customer")
        return cls(float(found["roc_auc"]), float(ppc) if isinstance(ppc, int | float) else None)


@dataclass(frozen=True)
class Performance:
    """How the model does on a window's labelled rows, against the champion's holdout figures."""

    rows: int
    decayed: bool | None
    roc_auc: float | None = None
    profit: float | None = None
    profit_per_customer: float | None = None
    baseline: PerformanceBaseline | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class DriftReport:
    """The whole check of one window: per-feature drift, score drift, performance, one verdict."""

    window: str
    verdict: Verdict
    reasons: tuple[str, ...]
    reference_rows: int
    current_rows: int
    features: tuple[FeatureDrift, ...]
    data_drift: bool | None
    drifting_share: float | None
    prediction: ScoreDrift | None = None
    performance: Performance | None = None
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    created_at: str = ""

    @property
    def drifting_features(self) -> tuple[str, ...]:
        """Names of the features whose verdict is drift."""
        return tuple(f.column for f in self.features if f.drifted)

    @property
    def worst_drift_score(self) -> float:
        """The largest drift score of any feature or of the scores (for a Prometheus gauge)."""
        scores = [f.drift_score for f in self.features]
        if self.prediction is not None and self.prediction.psi is not None:
            scores.append(self.prediction.psi)
        return float(max(scores, default=0.0))

    @property
    def prediction_drift(self) -> bool:
        """True when the scores drifted."""
        return bool(self.prediction is not None and self.prediction.drifted)

    @property
    def performance_decay(self) -> bool:
        """True when a labelled window fell below the champion's figures."""
        return bool(self.performance is not None and self.performance.decayed)

    def feature(self, column: str) -> FeatureDrift:
        """One feature's result by name."""
        for f in self.features:
            if f.column == column:
                return f
        raise KeyError(f"no feature {column!r} in the drift report of {self.window!r}")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN and infinities become null)."""
        out: dict[str, Any] = _clean(asdict(self))
        out["thresholds"] = dict(self.thresholds)
        out["drifting_features"] = list(self.drifting_features)
        out["worst_drift_score"] = _finite(self.worst_drift_score)
        out["prediction_drift"] = self.prediction_drift
        out["performance_decay"] = self.performance_decay
        return out

    def to_markdown(self) -> str:
        """A short summary for a Prefect artifact or a pull-request comment."""
        lines = [
            f"# Drift report: {self.window}",
            "",
            f"**Verdict: {self.verdict}** ({self.current_rows} rows vs "
            f"{self.reference_rows} reference rows)",
            "",
            *[f"- {r}" for r in self.reasons],
            "",
            "| feature | test | PSI | p-value | missing | unseen | verdict |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for f in self.features:
            p = f.ks_pvalue if f.kind == "numeric" else f.chi2_pvalue
            verdict = "too small" if f.drifted is None else ("drift" if f.drifted else "ok")
            lines.append(
                f"| {f.column} | {f.test} | {short_number(f.psi)} | {short_number(p)} | "
                f"{f.missing_current:.3f} | {short_number(f.unseen_share)} | {verdict} |"
            )
        return "\n".join(lines)


def is_number(x: Any) -> bool:
    """True for a real, finite number (not bool)."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _find_metrics(raw: Any) -> dict[str, Any] | None:
    """The champion's figures: the 'holdout' section first, else the first mapping with roc_auc."""
    if isinstance(raw, dict) and isinstance(raw.get("holdout"), dict):
        raw = [raw["holdout"], raw]
    queue = raw if isinstance(raw, list) else [raw]
    while queue:
        node = queue.pop(0)
        if isinstance(node, dict):
            if is_number(node.get("roc_auc")):
                return {str(k): v for k, v in node.items()}
            queue.extend(node.values())
        elif isinstance(node, list):
            queue.extend(node)
    return None


def _finite(x: float) -> float | None:
    """None for NaN or infinity, so the JSON stays standard."""
    return x if math.isfinite(x) else None


def _clean(obj: Any) -> Any:
    """Recursively turn tuples into lists and non-finite floats into None."""
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, float):
        return _finite(obj)
    return obj


def short_number(x: float | None) -> str:
    """A short number for tables, or a dash."""
    return "-" if x is None else f"{x:.3g}"
