"""Behavioural tests of a challenger (CheckList style), run before it may be promoted.

On a seeded sample of holdout rows: invariance (changing the id column or a column declared
irrelevant leaves every score unchanged within a tolerance), directional expectations (one
step up a column moves no more than a share of scores the wrong way beyond a tolerance),
minimum performance per slice, and edge cases built from the validation rules (each column at
its minimum and maximum, missing where nulls are allowed, every allowed category): each scores
without error, within [0, 1], and the same through the version's ONNX export when it has one.
A failed test blocks promotion; the figures go to the decision, the report and MLflow.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from lifecycle.config import Params
from lifecycle.features import binary_target, model_inputs
from lifecycle.metrics import classification_metrics
from lifecycle.paths import Paths
from lifecycle.portable import STATUS_TAG, load_onnx, onnx_scores
from lifecycle.registry import client, load_sklearn
from lifecycle.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    import pandas as pd

    Scorer = Callable[[pd.DataFrame], np.ndarray]

ARTIFACT = "behaviour/behaviour.json"


@dataclass(frozen=True)
class Check:
    """One behavioural test: its kind and name, passed or not, and the figures behind it."""

    kind: str
    name: str
    passed: bool
    detail: str
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BehaviourReport:
    """Every check on one version; passed when all did."""

    version: str
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        """All checks passed (no checks: passed)."""
        return all(c.passed for c in self.checks)

    @property
    def reason(self) -> str:
        """The failed checks by name with their figures, for the promotion decision."""
        failed = [f"{c.kind} {c.name}: {c.detail}" for c in self.checks if not c.passed]
        return "behavioural tests failed: " + "; ".join(failed) if failed else "all passed"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"version": self.version, "passed": self.passed, "reason": self.reason,
                "checks": [asdict(c) for c in self.checks]}  # fmt: skip


def sample(holdout: pd.DataFrame, params: Params) -> pd.DataFrame:
    """The seeded holdout rows the tests perturb."""
    spec = params.behaviour
    n = min(spec.max_rows, len(holdout))
    return holdout.sample(n=n, random_state=spec.seed).reset_index(drop=True)


def invariance(rows: pd.DataFrame, params: Params, scorer: Scorer) -> list[Check]:
    """Shuffling a column that must not matter (ids replaced) leaves every score in place."""
    import numpy as np

    spec = params.behaviour
    base = scorer(rows)
    checks = []
    for column in dict.fromkeys([params.data.id_column, *spec.invariant]):
        changed = rows.copy()
        if column == params.data.id_column:
            changed[column] = [f"behaviour-{i}" for i in range(len(rows))]
        else:
            rng = np.random.default_rng(spec.seed)
            changed[column] = rng.permutation(changed[column].to_numpy())
        moved = float(np.max(np.abs(scorer(changed) - base))) if len(rows) else 0.0
        ok = moved <= spec.invariance_tolerance
        detail = f"largest score change {moved:.3g} (tolerance {spec.invariance_tolerance:g})"
        checks.append(Check("invariance", column, ok, detail, {"max_change": moved}))
    return checks


def _stepped(rows: pd.DataFrame, params: Params, index: int) -> pd.DataFrame:
    """The rows that can move one step up the column, moved (clipped to the validation range)."""
    d = params.behaviour.directional[index]
    moved = rows.copy()
    if d.order is not None:
        rank = {v: i for i, v in enumerate(d.order)}
        keep = moved[d.column].map(lambda v: rank.get(v, len(d.order or ())) < len(rank) - 1)
        moved = moved[keep.astype(bool)].copy()
        moved[d.column] = moved[d.column].map(lambda v: (d.order or ())[rank[v] + 1])
        return moved
    high = params.validation.ranges.get(d.column, (None, None))[1]
    values = moved[d.column].astype("float64") + float(d.step or 0.0)
    moved[d.column] = values if high is None else values.clip(upper=float(high))
    return moved


def lifted_by_simulation(params: Params) -> dict[str, str]:
    """Directional expectations the simulated world breaks on purpose, and why.

    `lifecycle simulate --scenario S` names S for its processes; a `relation` scenario redraws
    the outcome with its column's effect inverted, which also moves the columns that go with it
    (a long contract goes with a long tenure), so the expectations describe the world before the
    scenario, not the one the challenger learnt; held, they would block every retrain of the demo.
    """
    name = get_settings().simulated_scenario
    scenario = params.simulation.scenarios.get(name) if name else None
    if scenario is None or scenario.kind != "relation":
        return {}
    why = (
        f"lifted: the simulated scenario {name!r} redraws the outcome with "
        f"{scenario.column}'s effect inverted"
    )
    return {d.column: why for d in params.behaviour.directional}


def directional(rows: pd.DataFrame, params: Params, scorer: Scorer) -> list[Check]:
    """Per expectation: the share of rows whose score moved the wrong way beyond tolerance."""
    import numpy as np

    checks = []
    lifted = lifted_by_simulation(params)
    for i, d in enumerate(params.behaviour.directional):
        if d.column in lifted:
            checks.append(Check("directional", d.column, True, lifted[d.column], {}))
            continue
        moved = _stepped(rows, params, i)
        if moved.empty:
            checks.append(Check("directional", d.column, True, "no row can move up", {}))
            continue
        delta = scorer(moved) - scorer(rows.loc[moved.index])
        wrong = delta > d.tolerance if d.direction == "not_increase" else delta < -d.tolerance
        share_ok = 1.0 - float(np.mean(wrong))
        ok = share_ok >= d.min_share
        detail = (
            f"{share_ok:.1%} of {len(moved)} rows kept {d.direction} within {d.tolerance:g} "
            f"(needs {d.min_share:.0%}); worst move {float(np.max(np.abs(delta))):+.3f}"
        )
        figures = {"share_ok": share_ok, "rows": len(moved), "min_share": d.min_share}
        checks.append(Check("directional", d.column, ok, detail, figures))
    return checks


def slices(frame: pd.DataFrame, params: Params, scorer: Scorer) -> list[Check]:
    """Every group with enough rows and both classes keeps its floor on the slice's metric."""
    import numpy as np

    y = binary_target(frame, params.data)
    scores = scorer(frame)
    checks = []
    for s in params.behaviour.slices:
        values = frame[s.column].astype(str).to_numpy()
        for group in sorted(set(values)):
            mask = values == group
            if mask.sum() < s.min_rows or len(np.unique(y[mask])) < 2:
                continue
            m = classification_metrics(y[mask], scores[mask], params.train.threshold,
                                       params.campaign)[s.metric]  # fmt: skip
            ok = m >= s.min
            detail = f"{s.metric} {m:.3f} on {int(mask.sum())} rows (floor {s.min:g})"
            name = f"{s.column}={group}"
            checks.append(Check("slice", name, ok, detail, {s.metric: m, "rows": int(mask.sum())}))
    return checks


def edge_rows(base: pd.DataFrame, params: Params) -> pd.DataFrame:
    """One row per edge: each ranged column at its min and max, missing where allowed, and
    each categorical column at every allowed category; the rest as the base row."""
    import pandas as pd

    rows: list[pd.DataFrame] = []
    v = params.validation

    def at(column: str, value: Any) -> None:
        row = base.iloc[[0]].copy()
        row[column] = value
        rows.append(row)

    for column, (low, high) in v.ranges.items():
        if column in params.data.features:
            at(column, low)
            at(column, high)
    for column, share in v.max_null_fraction.items():
        if share > 0 and column in params.data.features:
            at(column, None)
    for column, allowed in v.categories.items():
        if column in params.data.features:
            for value in allowed:
                at(column, value)
    return pd.concat(rows, ignore_index=True) if rows else base.iloc[:0]


def edge_cases(
    rows: pd.DataFrame, params: Params, scorer: Scorer, onnx: bytes | None, onnx_note: str
) -> list[Check]:
    """Every edge row scores, within [0, 1], and (with an ONNX export) the same through it."""
    import numpy as np

    edges = edge_rows(rows, params)
    try:
        scores = scorer(edges)
    except Exception as err:  # a model that cannot score an allowed value fails the check
        return [Check("edge", "scores", False, f"{type(err).__name__}: {err}"[:300], {})]
    bad = int(np.sum(~np.isfinite(scores) | (scores < 0) | (scores > 1)))
    checks = [Check("edge", "scores", bad == 0, f"{len(edges)} edge rows, {bad} outside [0, 1]",
                    {"rows": len(edges), "outside": bad})]  # fmt: skip
    if onnx is None:
        checks.append(Check("edge", "onnx", True, f"skipped: {onnx_note}", {}))
        return checks
    tol = params.release.onnx_tolerance
    try:
        gap = float(np.max(np.abs(onnx_scores(onnx, edges, params) - scores)))
    except Exception as err:  # an export that cannot score an allowed value fails the check
        return [*checks, Check("edge", "onnx", False, f"{type(err).__name__}: {err}"[:300], {})]
    detail = f"largest gap to ONNX {gap:.2g} (tolerance {tol:g})"
    return [*checks, Check("edge", "onnx", gap <= tol, detail, {"max_gap": gap})]


def model_scorer(model: Any, params: Params) -> Scorer:
    """Positive-class probabilities of a frame through the pipeline."""
    import numpy as np

    def scorer(frame: pd.DataFrame) -> np.ndarray:
        return np.asarray(model.predict_proba(model_inputs(frame, params.data))[:, 1])

    return scorer


def _onnx(params: Params, paths: Paths, version: str) -> tuple[bytes | None, str]:
    """The version's ONNX export if it has one, else why not."""
    mv = client(paths).get_model_version(params.mlflow.model_name, version)
    status = (mv.tags or {}).get(STATUS_TAG)
    if not (status or "").startswith("ok"):
        return None, f"{STATUS_TAG} is {status!r}"
    return load_onnx(params, paths, version), ""


def run_checks(
    params: Params, paths: Paths, version: str, holdout: pd.DataFrame
) -> BehaviourReport:
    """Every behavioural test params declare, on one registered version."""
    if not params.behaviour.enabled:
        return BehaviourReport(version, ())
    model = load_sklearn(paths, params.mlflow.model_name, version)
    scorer = model_scorer(model, params)
    rows = sample(holdout, params)
    checks = [*invariance(rows, params, scorer), *directional(rows, params, scorer)]
    checks += slices(holdout, params, scorer)
    if params.behaviour.edge_cases:
        onnx, note = _onnx(params, paths, version)
        checks += edge_cases(rows, params, scorer, onnx, note)
    report = BehaviourReport(version, tuple(checks))
    log_report(report, params, paths)
    return report


def log_report(report: BehaviourReport, params: Params, paths: Paths) -> None:
    """The report as an artifact and a pass/fail tag on the version's MLflow run."""
    c = client(paths)
    run_id = c.get_model_version(params.mlflow.model_name, report.version).run_id
    if not run_id:
        return
    c.log_dict(run_id, report.to_dict(), ARTIFACT)
    c.set_tag(run_id, "behaviour.passed", str(report.passed).lower())
    failed = sum(not x.passed for x in report.checks)
    c.log_metric(run_id, "behaviour_failed_checks", float(failed))
