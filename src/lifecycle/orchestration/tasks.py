"""Prefect tasks: each wraps one library call; tasks that do I/O retry with backoff."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from prefect import Task, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.objects import State, TaskRun
from prefect.tasks import exponential_backoff

from lifecycle import evaluate as evaluate_mod
from lifecycle import features, ingest, retrain, train, validate
from lifecycle.config import Candidate, Params
from lifecycle.monitor.performance import label_array
from lifecycle.monitor.results import DriftReport
from lifecycle.monitor.run import MonitorOutcome, monitor_window
from lifecycle.monitor.windows import load_window
from lifecycle.orchestration import dvc_record
from lifecycle.orchestration.results import FitOutcome
from lifecycle.orchestration.runtime import pinned_threads
from lifecycle.paths import Paths
from lifecycle.promote import apply_decision

RETRIES = 2
P = ParamSpec("P")
R = TypeVar("R")
TRANSIENT_NAMES = frozenset({"OperationalError", "MlflowException", "RestException", "LockError"})


def transient(_task: Task[..., Any], _run: TaskRun, state: State[Any]) -> bool:
    """Retry I/O failures (disk, network, a locked database), never bad data or bad params."""
    try:
        state.result()
    except (OSError, TimeoutError) as err:
        return not isinstance(err, FileNotFoundError)
    except Exception as err:  # the failure's type decides; any other one is final
        return type(err).__name__ in TRANSIENT_NAMES
    return False


def io_task(name: str) -> Callable[[Callable[P, R]], Task[P, R]]:
    """A task that does I/O: retried with exponential backoff when the failure is transient."""

    def wrap(fn: Callable[P, R]) -> Task[P, R]:
        return task(
            name=name,
            retries=RETRIES,
            retry_delay_seconds=exponential_backoff(backoff_factor=1),
            retry_condition_fn=transient,
            cache_policy=NO_CACHE,
        )(fn)

    return wrap


@io_task("ingest")
def ingest_task(params: Params, paths: Paths) -> ingest.IngestResult:
    """Snapshot the source and write the simulated monthly batches."""
    return ingest.ingest(params.data, params.simulation, paths)


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(params: Params, paths: Paths) -> validate.ValidationReport:
    """Gate the reference period; a failure quarantines it and is final (no retry)."""
    return validate.validate_reference(params, paths)


@io_task("split")
def split_task(params: Params, paths: Paths) -> features.SplitResult:
    """Stratified train/holdout split of the validated data."""
    return features.split(params, paths)


@io_task("training-context")
def context_task(params: Params, paths: Paths) -> train.TrainContext:
    """Versions of data, code and params that every candidate run records."""
    return train.training_context(params, paths)


@io_task("find-registered")
def find_registered_task(params: Params, paths: Paths, fingerprint: str) -> tuple[str, str] | None:
    """A version already trained on the same data and params, to reuse instead of refitting."""
    return train.find_registered(params, paths, fingerprint)


@io_task("fit-candidate")
def fit_task(
    candidate: Candidate, params: Params, paths: Paths, ctx: train.TrainContext
) -> FitOutcome:
    """Fit and log one candidate; records the Dask worker it ran on."""
    with pinned_threads():  # also on a Dask worker: the fit runs in that process
        # the candidates already share the cores (one per worker): the folds go one by one
        result = train.fit_candidate(candidate, params, paths, ctx, jobs=1)
    return FitOutcome(result, _worker_address(), os.getpid())


def _worker_address() -> str:
    """The Dask worker running this code, or 'local' outside a Dask worker."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "local"


@io_task("register-best")
def register_task(
    results: list[train.CandidateResult], params: Params, paths: Paths, ctx: train.TrainContext
) -> train.TrainResult:
    """Register the best candidate and point @challenger at it (the only alias train moves)."""
    return train.register_best(results, params, paths, ctx)


@io_task("reuse-registered")
def reuse_task(
    found: tuple[str, str], params: Params, paths: Paths, ctx: train.TrainContext
) -> train.TrainResult:
    """Point @challenger at the version trained on the same data and params."""
    return train.reuse_registered(found, params, paths, ctx)


@io_task("write-train-report")
def train_report_task(result: train.TrainResult, paths: Paths) -> None:
    """reports/train.json, the train stage's output."""
    train.write_train_report(result, paths)


@io_task("evaluate")
def evaluate_task(params: Params, paths: Paths) -> evaluate_mod.Decision:
    """Champion vs challenger on the holdout: a decision with its reason (no alias moved)."""
    return evaluate_mod.evaluate(params, paths)


@io_task("promote")
def promote_task(decision: evaluate_mod.Decision, params: Params, paths: Paths) -> str | None:
    """Apply the decision: move the aliases if it says so, write the reports; the champion."""
    return apply_decision(decision, params, paths)


@io_task("check-drift")
def drift_task(
    params: Params,
    paths: Paths,
    window: Path | None,
    month: int | None,
    scenario: str | None,
    model: str | None,
) -> MonitorOutcome:
    """Compare one window (a file, the prediction log or a simulated month) with the reference."""
    return monitor_window(
        params, paths, window, month=month, scenario=scenario, model=model, log_mlflow=True
    )


@io_task("count-labels")
def labels_task(params: Params, paths: Paths, window: Path | None, month: int | None) -> int:
    """Rows of the window whose outcome is known: the new labels a retrain could learn from."""
    import numpy as np

    source = paths.batch(month) if month is not None else (window or paths.predictions)
    labels = label_array(load_window(source), params.data)
    return 0 if labels is None else int(np.isfinite(labels).sum())


@io_task("decide-retrain")
def decide_retrain_task(
    report: DriftReport, labelled_rows: int, params: Params
) -> retrain.RetrainDecision:
    """The retrain policy: a trigger, enough labels and the budget's consent."""
    return retrain.decide_retrain(report, labelled_rows, params)


@task(name="refresh-training-data", cache_policy=NO_CACHE)
def refresh_data_task(params: Params, paths: Paths) -> retrain.TrainingData:
    """The new labelled rows into data/validated and a new split; bad rows are final (no retry)."""
    return retrain.refresh_training_data(params, paths)


@io_task("dvc-record")
def dvc_record_task(paths: Paths, stages: tuple[str, ...]) -> tuple[str, ...]:
    """Record the stages' outputs in dvc.lock and push them, so `dvc status` stays clean."""
    return dvc_record.record(paths, stages)
