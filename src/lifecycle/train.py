"""Candidate models -> one MLflow run each -> the best registered as @challenger."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.config import Candidate, Params
from lifecycle.convergence import CONVERGED, selectable, watch, with_early_stopping
from lifecycle.explain import importance_for_version
from lifecycle.fairness import assess, log_report
from lifecycle.features import binary_target, cap_rows, model_inputs, preprocessor
from lifecycle.fit_threads import final_fit_threads, fold_jobs, one_thread_per_fit
from lifecycle.metrics import classification_metrics, metric_value
from lifecycle.paths import Paths
from lifecycle.portable import ensure_exported
from lifecycle.registry import client, ensure_experiment, ensure_same_inputs, set_challenger
from lifecycle.versioning import dvc_md5, git_commit, git_dirty

if TYPE_CHECKING:
    import pandas as pd
    from sklearn.pipeline import Pipeline

# skops refuses types it does not know; these are the ones our families need
SKOPS_TRUSTED = [
    "numpy.dtype",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
]
FINGERPRINT_TAG = "lifecycle.fingerprint"
# what loading a logged pipeline needs, pinned to the versions installed here
MODEL_LIBRARIES = ("mlflow", "scikit-learn", "skops", "numpy", "scipy", "pandas")


@dataclass(frozen=True)
class TrainContext:
    """What every candidate run records, so that a run can be traced and reproduced."""

    data_version: str
    train_md5: str
    git_commit: str
    git_dirty: str
    params_hash: str
    fingerprint: str
    experiment_id: str


@dataclass(frozen=True)
class CandidateResult:
    """One fitted candidate: its MLflow run and scores."""

    name: str
    family: str
    run_id: str
    model_uri: str
    selection_score: float
    cv: dict[str, float]
    holdout: dict[str, float]
    fit_seconds: float
    convergence: str = CONVERGED  # lifecycle.convergence: only a converged candidate is selected
    convergence_reason: str = ""


@dataclass(frozen=True)
class TrainResult:
    """The challenger this training produced (or found already registered)."""

    model_name: str
    version: str
    run_id: str
    candidate: str
    selection_metric: str
    selection_score: float
    data_version: str
    reused: bool
    candidates: tuple[CandidateResult, ...]


def build_pipeline(candidate: Candidate, params: Params) -> Pipeline:
    """Preprocessing + the candidate's estimator, seeded."""
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    families: dict[str, Any] = {
        "logistic_regression": LogisticRegression,
        "hist_gradient_boosting": HistGradientBoostingClassifier,
        "random_forest": RandomForestClassifier,
    }
    kwargs = dict(candidate.params)
    if candidate.family != "logistic_regression":
        kwargs.setdefault("random_state", params.train.seed)
    try:
        estimator = families[candidate.family](**kwargs)
    except TypeError as err:
        raise ValueError(f"train.candidates.{candidate.name}.params: {err}") from None
    return Pipeline([("prep", preprocessor(params.data, params.features)), ("model", estimator)])


def training_context(params: Params, paths: Paths) -> TrainContext:
    """Versions of data, code and params for this training."""
    data_version = dvc_md5(paths.validated)
    train_md5 = dvc_md5(paths.train_set)
    params_hash = params.section_hash(
        "data", "features", "split", "train", "campaign", "convergence"
    )
    return TrainContext(
        data_version=data_version,
        train_md5=train_md5,
        git_commit=git_commit(paths.root) or "unknown",
        git_dirty=str(git_dirty(paths.root)).lower(),
        params_hash=params_hash,
        fingerprint=f"{train_md5}-{params_hash}",
        experiment_id=ensure_experiment(paths, params.mlflow.experiment),
    )


def cv_folds(train: pd.DataFrame, params: Params) -> tuple[Any, pd.Series | None]:
    """Stratified, seeded folds; rows sharing a group (as in the split) stay in one fold."""
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    spec, group = params.train, params.data.group_column or params.data.id_column
    keys = train[group] if group in train.columns else None
    if keys is None or keys.is_unique:  # one row per group: the plain folds, as before
        return StratifiedKFold(spec.cv_folds, shuffle=True, random_state=spec.seed), None
    # copies of a customer in the fit and the scored fold would make CV reward memorising
    return StratifiedGroupKFold(spec.cv_folds, shuffle=True, random_state=spec.seed), keys


def fit_candidate(
    candidate: Candidate,
    params: Params,
    paths: Paths,
    ctx: TrainContext,
    jobs: int | None = None,
) -> CandidateResult:
    """Cross-validate, fit and log one candidate as an MLflow run with an enforced signature.

    jobs: CV folds fitted at once (None: `fold_jobs`, one per core).
    """
    import time

    import mlflow
    import pandas as pd
    from mlflow.models import infer_signature
    from sklearn.model_selection import cross_val_predict

    client(paths)
    spec = params.train
    train = cap_rows(pd.read_parquet(paths.train_set), params.data, spec.max_rows, spec.seed)
    holdout = pd.read_parquet(paths.holdout_set)
    x, y = model_inputs(train, params.data), binary_target(train, params.data)
    xh, yh = model_inputs(holdout, params.data), binary_target(holdout, params.data)
    tags = {
        "candidate": candidate.name,
        "family": candidate.family,
        "data_version": ctx.data_version,
        "train_md5": ctx.train_md5,
        "git_commit": ctx.git_commit,
        "git_dirty": ctx.git_dirty,
        "params_hash": ctx.params_hash,
        FINGERPRINT_TAG: ctx.fingerprint,
        "stage": "train",
    }
    # the run opens before the fit: a candidate that raises leaves a FAILED run, not none
    with mlflow.start_run(
        experiment_id=ctx.experiment_id, run_name=candidate.name, tags=tags
    ) as run:
        started = time.perf_counter()
        candidate = with_early_stopping(candidate, params.convergence)
        pipe = build_pipeline(candidate, params)
        folds, groups = cv_folds(train, params)
        jobs = fold_jobs(candidate, spec.cv_folds) if jobs is None else jobs
        with watch(params.convergence) as seen, one_thread_per_fit(jobs):
            oof = cross_val_predict(
                pipe, x, y, groups=groups, cv=folds, method="predict_proba", n_jobs=jobs
            )
            oof = oof[:, 1]
            if not seen.over_budget("cross-validation"):
                with final_fit_threads(pipe, candidate, jobs):
                    pipe.fit(x, y)
                seen.over_budget("final fit")
        mlflow.set_tags(seen.tags())
        if seen.stopped_at == "cross-validation":  # stopped: no final fit, never selected
            mlflow.log_params({"family": candidate.family, **candidate.params})
            return CandidateResult(candidate.name, candidate.family, run.info.run_id, "",
                                   float("-inf"), {}, {}, round(seen.seconds, 3),
                                   seen.status, seen.reason)  # fmt: skip
        fit_seconds = time.perf_counter() - started
        scores = pipe.predict_proba(xh)[:, 1]
        cv = classification_metrics(y, oof, params.train.threshold, params.campaign)
        hold = classification_metrics(yh, scores, params.train.threshold, params.campaign)
        selection = metric_value(params.train.selection_metric, y, oof, params.campaign)
        mlflow.log_params({"family": candidate.family, **candidate.params})
        mlflow.log_params({"cv_folds": spec.cv_folds, "threshold": spec.threshold,
                           "train_rows": len(x), "max_rows": spec.max_rows})  # fmt: skip
        mlflow.log_metrics({f"cv_{k}": v for k, v in cv.items() if v == v})
        mlflow.log_metrics({f"holdout_{k}": v for k, v in hold.items() if v == v})
        mlflow.log_metrics({"selection_score": selection, "fit_seconds": fit_seconds})
        if params.fairness.sensitive:
            log_report(assess(holdout, yh, scores, params))
        example = x.head(5)
        info = mlflow.sklearn.log_model(
            pipe,
            name="model",
            signature=infer_signature(example, pipe.predict_proba(example)[:, 1]),
            input_example=example,
            skops_trusted_types=SKOPS_TRUSTED,
            conda_env=model_environment(),
        )
        run_id = run.info.run_id
    return CandidateResult(
        candidate.name,
        candidate.family,
        run_id,
        info.model_uri,
        selection,
        cv,
        hold,
        round(fit_seconds, 3),
        seen.status,
        seen.reason,
    )


def model_environment() -> dict[str, Any]:
    """The logged model's environment, stated: MLflow's inference warns without pip installed."""
    import platform
    from importlib.metadata import version

    pins = [f"{name}=={version(name)}" for name in MODEL_LIBRARIES]
    python = platform.python_version()
    return {"name": "mlflow-env", "channels": ["conda-forge"],
            "dependencies": [f"python={python}", "pip", {"pip": pins}]}  # fmt: skip


def end_unfinished_runs(paths: Paths, ctx: TrainContext, status: str = "KILLED") -> int:
    """End the candidate runs a failed fit left RUNNING (a worker stopped mid-run); how many."""
    c = client(paths)
    found = c.search_runs(
        [ctx.experiment_id],
        filter_string=(
            f"tags.`{FINGERPRINT_TAG}` = '{ctx.fingerprint}' and attributes.status = 'RUNNING'"
        ),
    )
    for run in found:
        c.set_terminated(run.info.run_id, status=status)
    return len(found)


def find_registered(params: Params, paths: Paths, fingerprint: str) -> tuple[str, str] | None:
    """An existing version trained on the same data with the same params, if any."""
    from mlflow.exceptions import MlflowException

    c = client(paths)
    try:
        versions = c.search_model_versions(f"name = '{params.mlflow.model_name}'")
    except MlflowException:
        return None
    for v in sorted(versions, key=lambda v: int(v.version), reverse=True):
        if (v.tags or {}).get(FINGERPRINT_TAG) == fingerprint:
            return str(v.version), str(v.run_id)
    return None


def register_best(
    results: list[CandidateResult], params: Params, paths: Paths, ctx: TrainContext
) -> TrainResult:
    """Register the best candidate as a new model version and point @challenger at it."""
    import mlflow

    if not results:
        raise ValueError("no candidate was trained")
    best = max(selectable(results), key=lambda r: r.selection_score)
    c = client(paths)
    ensure_same_inputs(params.mlflow.model_name, best.model_uri)
    mv = mlflow.register_model(best.model_uri, params.mlflow.model_name)
    version_tags = {
        "candidate": best.name,
        "family": best.family,
        "data_version": ctx.data_version,
        "git_commit": ctx.git_commit,
        "git_dirty": ctx.git_dirty,
        "params_hash": ctx.params_hash,
        FINGERPRINT_TAG: ctx.fingerprint,
        **{f"holdout_{k}": f"{v:.6g}" for k, v in best.holdout.items()},
    }
    for key, value in version_tags.items():
        c.set_model_version_tag(params.mlflow.model_name, mv.version, key, value)
    c.set_tag(best.run_id, "registered_version", str(mv.version))
    set_challenger(paths, params.mlflow.model_name, str(mv.version))
    return TrainResult(
        params.mlflow.model_name,
        str(mv.version),
        best.run_id,
        best.name,
        params.train.selection_metric,
        best.selection_score,
        ctx.data_version,
        False,
        tuple(results),
    )


def reuse_registered(
    found: tuple[str, str], params: Params, paths: Paths, ctx: TrainContext
) -> TrainResult:
    """Same data, same params: point @challenger at the version already trained on them."""
    version, run_id = found
    run = client(paths).get_run(run_id)
    set_challenger(paths, params.mlflow.model_name, version)
    return TrainResult(
        params.mlflow.model_name,
        version,
        run_id,
        run.data.tags.get("candidate", "?"),
        params.train.selection_metric,
        float(run.data.metrics.get("selection_score", float("nan"))),
        ctx.data_version,
        True,
        (),
    )


def train(params: Params, paths: Paths) -> TrainResult:
    """Fit every candidate (or reuse an identical earlier training) and write reports/train.json."""
    import sklearn  # noqa: F401  (loads its BLAS and OpenMP: a limit reaches loaded libraries only)
    from threadpoolctl import threadpool_limits

    # one BLAS/OpenMP thread for the scoring too (holdout, importance, ONNX parity): many
    # predict calls, where OpenMP's threads would wait for each other (`one_thread_per_fit`)
    with threadpool_limits(limits=1):
        ctx = training_context(params, paths)
        found = find_registered(params, paths, ctx.fingerprint)
        if found is not None:
            result = reuse_registered(found, params, paths, ctx)
        else:
            fitted = [fit_candidate(c, params, paths, ctx) for c in params.train.candidates]
            result = register_best(fitted, params, paths, ctx)
        importance_for_version(params, paths, result.version)  # once per version, then read back
        ensure_exported(params, paths, result.version)
    write_train_report(result, paths)
    return result


def write_train_report(result: TrainResult, paths: Paths) -> None:
    """reports/train.json: the challenger and every candidate's scores."""
    paths.reports.mkdir(parents=True, exist_ok=True)
    body = asdict(result)
    tmp = paths.train_report.with_suffix(".tmp")
    tmp.write_text(json.dumps(body, indent=2, sort_keys=True, default=str))
    tmp.replace(paths.train_report)
