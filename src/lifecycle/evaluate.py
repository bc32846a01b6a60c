"""Champion vs challenger on the same holdout, a paired bootstrap, and a decision with a reason."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lifecycle.behaviour import BehaviourReport, run_checks
from lifecycle.comparison import compare
from lifecycle.config import Params
from lifecycle.explain import importance_for_version
from lifecycle.fairness import FairnessReport, assess
from lifecycle.features import binary_target, model_inputs
from lifecycle.metrics import classification_metrics, curves, metric_value
from lifecycle.paths import Paths
from lifecycle.registry import (
    CHALLENGER,
    CHAMPION,
    load_sklearn,
    require_alias,
    version_by_alias,
)

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class Bootstrap:
    """The paired bootstrap of challenger minus champion on the chosen metric."""

    metric: str
    mean_gain: float
    lower: float
    upper: float
    samples: int
    confidence: float


@dataclass(frozen=True)
class Decision:
    """Promote or not, and why, with the figures behind it."""

    promote: bool
    reason: str
    model_name: str
    challenger_version: str
    champion_version: str | None
    metric: str
    challenger: dict[str, float]
    champion: dict[str, float] | None
    bootstrap: Bootstrap | None
    decided_at: str
    fairness: dict[str, Any] | None = None
    importance: list[dict[str, Any]] | None = None
    live: dict[str, Any] | None = None
    behaviour: dict[str, Any] | None = None


VECTOR_METRICS = ("profit", "roc_auc")  # resampled as whole matrices, not one by one
CHUNK_CELLS = 4_000_000  # resampled cells held at once (about 100 MB over the four matrices)


def paired_bootstrap(
    y: np.ndarray,
    champion: np.ndarray,
    challenger: np.ndarray,
    params: Params,
) -> Bootstrap:
    """Resample holdout rows (the same rows for both models) and measure the gain's spread."""
    import numpy as np

    spec = params.promotion
    rng = np.random.default_rng(spec.seed)
    if spec.metric in VECTOR_METRICS:
        gains = _vector_gains(np.asarray(y, dtype=int), champion, challenger, params, rng)
    else:
        gains = _loop_gains(y, champion, challenger, params, rng)
    alpha = 1 - spec.confidence
    return Bootstrap(
        metric=spec.metric,
        mean_gain=float(gains.mean()),
        lower=float(np.quantile(gains, alpha)),
        upper=float(np.quantile(gains, 1 - alpha)),
        samples=spec.bootstrap_samples,
        confidence=spec.confidence,
    )


def _loop_gains(
    y: np.ndarray, champion: np.ndarray, challenger: np.ndarray, params: Params, rng: Any
) -> np.ndarray:
    """One resample at a time, through `metric_value` (any metric)."""
    import numpy as np

    spec, n = params.promotion, len(y)
    gains = np.empty(spec.bootstrap_samples)
    for i in range(spec.bootstrap_samples):
        idx = rng.integers(0, n, n)
        if y[idx].min() == y[idx].max():
            gains[i] = 0.0
            continue
        gains[i] = metric_value(spec.metric, y[idx], challenger[idx], params.campaign) - (
            metric_value(spec.metric, y[idx], champion[idx], params.campaign)
        )
    return gains


def _vector_gains(
    y: np.ndarray, champion: np.ndarray, challenger: np.ndarray, params: Params, rng: Any
) -> np.ndarray:
    """Many resamples per numpy call: the same draws (same seed, same order) as the loop."""
    import numpy as np

    spec, n = params.promotion, len(y)
    old = np.clip(np.asarray(champion, dtype=float), 1e-7, 1 - 1e-7)
    new = np.clip(np.asarray(challenger, dtype=float), 1e-7, 1 - 1e-7)
    gains = np.empty(spec.bootstrap_samples)
    step = max(1, CHUNK_CELLS // max(n, 1))
    for start in range(0, spec.bootstrap_samples, step):
        idx = rng.integers(0, n, (min(step, spec.bootstrap_samples - start), n))
        yy = y[idx]
        positives = yy.sum(axis=1)
        gain = _metric_rows(spec.metric, yy, new[idx], positives, params) - _metric_rows(
            spec.metric, yy, old[idx], positives, params
        )
        gain[(positives == 0) | (positives == n)] = 0.0  # one class only: no comparison
        gains[start : start + len(idx)] = gain
    return gains


def _metric_rows(
    metric: str, y: np.ndarray, s: np.ndarray, positives: np.ndarray, params: Params
) -> np.ndarray:
    """The metric of every row of a resample matrix (as `metric_value` computes it)."""
    import numpy as np

    n = y.shape[1]
    if metric == "profit":
        c = params.campaign
        k = max(1, round(c.capacity_share * n))
        top = np.argsort(-s, axis=1, kind="stable")[:, :k]
        hits = np.take_along_axis(y, top, axis=1).sum(axis=1)
        return np.asarray(hits * (c.acceptance_rate * c.retained_value) - k * c.contact_cost)
    from scipy.stats import rankdata

    ranks = rankdata(s, axis=1)  # average ranks of ties: the Mann-Whitney form of ROC AUC
    negatives = n - positives
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = ((ranks * y).sum(axis=1) - positives * (positives + 1) / 2) / (positives * negatives)
    return np.asarray(np.nan_to_num(auc))


def decide(
    params: Params,
    y: np.ndarray,
    challenger_scores: np.ndarray,
    champion_scores: np.ndarray | None,
    challenger_version: str,
    champion_version: str | None,
) -> Decision:
    """The promotion rule: a first valid model wins; later ones must beat the margin for sure."""
    t, camp, spec = params.train.threshold, params.campaign, params.promotion
    ch = classification_metrics(y, challenger_scores, t, camp)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    name = params.mlflow.model_name

    def made(promote: bool, reason: str, champ: dict[str, float] | None, boot: Any) -> Decision:
        return Decision(
            promote, reason, name, challenger_version, champion_version, spec.metric, ch, champ,
            boot, now,
        )  # fmt: skip

    if champion_version is None or champion_scores is None:
        if ch["roc_auc"] >= spec.min_roc_auc:
            return made(True, f"no champion yet; challenger v{challenger_version} has ROC AUC "
                        f"{ch['roc_auc']:.3f} >= {spec.min_roc_auc}", None, None)  # fmt: skip
        return made(False, f"no champion yet, but challenger ROC AUC {ch['roc_auc']:.3f} is "
                    f"below the floor {spec.min_roc_auc}", None, None)  # fmt: skip
    champ = classification_metrics(y, champion_scores, t, camp)
    if champion_version == challenger_version:
        return made(False, f"challenger v{challenger_version} is already the champion", champ, None)
    boot = paired_bootstrap(y, champion_scores, challenger_scores, params)
    figures = (
        f"{spec.metric} gain {boot.mean_gain:+.4g} (lower bound {boot.lower:+.4g} at "
        f"{spec.confidence:.0%}, margin {spec.margin:+.4g}){closeness(boot, spec.margin)}"
    )
    if boot.lower > spec.margin:
        return made(True, f"challenger v{challenger_version} beats champion "
                    f"v{champion_version}: {figures}", champ, boot)  # fmt: skip
    return made(False, f"challenger v{challenger_version} does not beat champion "
                f"v{champion_version} for sure: {figures}", champ, boot)  # fmt: skip


CLOSE_SHARE = 0.1  # a lower bound this share of the interval's width from the margin is close


def closeness(boot: Bootstrap, margin: float) -> str:
    """How far the decision was from going the other way; flagged when it was close."""
    gap = boot.lower - margin
    width = max(boot.upper - boot.lower, 1e-12)
    side = "above" if gap > 0 else "at or below"
    close = abs(gap) < CLOSE_SHARE * width
    flag = f"; a close call: within {CLOSE_SHARE:.0%} of the interval's width" if close else ""
    return f"; the lower bound is {abs(gap):.4g} {side} the margin{flag}"


def score(params: Params, paths: Paths, version: str, frame: Any) -> np.ndarray:
    """Churn probabilities of one registered version on a frame."""
    import numpy as np

    model: Any = load_sklearn(paths, params.mlflow.model_name, version)
    return np.asarray(model.predict_proba(model_inputs(frame, params.data))[:, 1])


def evaluate(params: Params, paths: Paths) -> Decision:
    """Score @champion and @challenger on the holdout and decide (no alias is moved here)."""
    import pandas as pd

    name = params.mlflow.model_name
    challenger_version = str(require_alias(paths, name, CHALLENGER).version)
    found = version_by_alias(paths, name, CHAMPION)
    champion_version = str(found.version) if found is not None else None
    holdout = pd.read_parquet(paths.holdout_set)
    y = binary_target(holdout, params.data)
    ch_scores = score(params, paths, challenger_version, holdout)
    champ_scores = None
    if champion_version is not None:
        champ_scores = (
            ch_scores
            if champion_version == challenger_version
            else score(params, paths, champion_version, holdout)
        )
    decision = decide(params, y, ch_scores, champ_scores, challenger_version, champion_version)
    decision = weigh_fairness(decision, assess(holdout, y, ch_scores, params))
    decision = weigh_behaviour(decision, run_checks(params, paths, challenger_version, holdout))
    decision = weigh_live_traffic(decision, params, paths)
    top = importance_for_version(params, paths, challenger_version)[: params.explain.top_k]
    return replace(decision, importance=[asdict(i) for i in top])


def weigh_fairness(decision: Decision, report: FairnessReport) -> Decision:
    """A promotion decision with the fairness report attached, blocked when the gate fails."""
    decision = _blocked_unless(decision, report.passed, report.reason)
    return replace(decision, fairness=report.to_dict())


def weigh_behaviour(decision: Decision, report: BehaviourReport) -> Decision:
    """The behavioural tests' report attached; a failed test blocks the promotion, named."""
    decision = _blocked_unless(decision, report.passed, report.reason)
    return replace(decision, behaviour=report.to_dict())


def _blocked_unless(decision: Decision, passed: bool, why: str) -> Decision:
    """A promotion held by a failed gate, its reason first (the holdout's reason kept after)."""
    if decision.promote and not passed:
        reason = f"blocked: {why} (otherwise: {decision.reason})"
        return replace(decision, promote=False, reason=reason)
    return decision


def weigh_live_traffic(decision: Decision, params: Params, paths: Paths) -> Decision:
    """The shadow's live comparison of this pair feeds the decision: it can hold a promotion.

    With shadow scoring on and enough outcomes (serving.shadow_min_labelled), a challenger that
    earns less than the champion on the same live customers is not promoted, whatever the
    holdout said; the comparison goes into the decision either way.
    """
    if decision.champion_version is None or not params.serving.shadow:
        return decision
    pair = (decision.champion_version, decision.challenger_version)
    runs = compare(params, paths)
    found = [c for c in runs if (c.champion_version, c.challenger_version) == pair]
    if not found:
        return decision
    live = found[0]
    decision = replace(decision, live=live.to_dict())
    if decision.promote and live.favours == "champion":
        held = f"held by live traffic (shadow): {live.reason}"
        return replace(decision, promote=False, reason=f"{decision.reason}; {held}")
    return decision


def write_reports(decision: Decision, champion: str | None, params: Params, paths: Paths) -> None:
    """promotion.json, metrics.json (dvc metrics) and the champion's curves (dvc plots)."""
    import pandas as pd

    paths.reports.mkdir(parents=True, exist_ok=True)
    _write_json(paths.promotion, {**asdict(decision), "champion_after": champion})
    chosen = (
        decision.challenger
        if champion == decision.challenger_version or decision.champion is None
        else decision.champion
    )
    metrics = {
        "champion_version": int(champion) if champion else None,
        "holdout": {k: round(v, 6) for k, v in chosen.items()},
        "challenger_holdout": {k: round(v, 6) for k, v in decision.challenger.items()},
        "promoted": decision.promote,
    }
    _write_json(paths.metrics, metrics)
    # the champion's curves; while none is approved yet, the challenger's (as in metrics.json),
    # so that the stage's plots always exist for `dvc plots` and the DVC outputs
    shown = champion or decision.challenger_version
    holdout = pd.read_parquet(paths.holdout_set)
    y = binary_target(holdout, params.data)
    points = curves(y, score(params, paths, shown, holdout))
    paths.plots.mkdir(parents=True, exist_ok=True)
    for name, rows in points.items():
        _write_json(paths.plots / f"{name}.json", rows)


def _write_json(path: Any, body: Any) -> None:
    """Write JSON atomically: a crash never leaves half a report."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, indent=2, sort_keys=True, default=str))
    tmp.replace(path)
