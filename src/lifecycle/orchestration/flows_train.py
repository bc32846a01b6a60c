"""The train flow: fit the candidates (fanned out on Dask), register the best, evaluate, promote."""

from __future__ import annotations

from prefect import flow

from lifecycle.config import Params
from lifecycle.convergence import ledger_note
from lifecycle.orchestration import progress
from lifecycle.orchestration.artifacts import publish_evaluation
from lifecycle.orchestration.notify import notify
from lifecycle.orchestration.results import FitOutcome, TrainFlowResult
from lifecycle.orchestration.runner import fit_runner
from lifecycle.orchestration.runtime import run_id
from lifecycle.orchestration.stage import stage_run
from lifecycle.orchestration.tasks import (
    context_task,
    dvc_record_task,
    evaluate_task,
    find_registered_task,
    fit_task,
    promote_task,
    register_task,
    reuse_task,
    train_report_task,
)
from lifecycle.paths import Paths
from lifecycle.train import TrainContext, TrainResult, end_unfinished_runs

STAGES = ("train", "evaluate")


@flow(name="fit-candidates", validate_parameters=False)
def fit_candidates_flow(params: Params, paths: Paths, ctx: TrainContext) -> tuple[FitOutcome, ...]:
    """One task per candidate, in parallel on the flow's task runner (Dask by default)."""
    futures = [fit_task.submit(c, params, paths, ctx) for c in params.train.candidates]
    return tuple(progress.candidates(futures, [c.name for c in params.train.candidates]))


def fit_candidates(params: Params, paths: Paths, ctx: TrainContext) -> tuple[FitOutcome, ...]:
    """Run the fits on the runner params and DASK_SCHEDULER_ADDRESS choose."""
    runner = fit_runner(params.orchestration, len(params.train.candidates))
    return fit_candidates_flow.with_options(task_runner=runner)(params, paths, ctx)


def challenger(
    params: Params, paths: Paths, ctx: TrainContext
) -> tuple[tuple[FitOutcome, ...], TrainResult]:
    """The version trained on the same data and params if one exists, else the best new fit."""
    found = find_registered_task(params, paths, ctx.fingerprint)
    if found is not None:
        return (), reuse_task(found, params, paths, ctx)
    try:
        fits = fit_candidates(params, paths, ctx)
    except BaseException:
        # the workers are gone: no sibling's MLflow run may stay RUNNING
        end_unfinished_runs(paths, ctx)
        raise
    return fits, register_task([f.result for f in fits], params, paths, ctx)


@flow(name="train")
def train_flow(
    params_file: str | None = None, trigger: str = "manual", phase: str = "development"
) -> TrainFlowResult:
    """Train, then evaluate and promote; a failed fit stops the flow before any alias moves."""
    with stage_run("train", phase, trigger, params_file) as stage, stage.ledger() as run:
        params, paths = stage.params, stage.paths
        ctx = context_task(params, paths)
        fits, trained = challenger(params, paths, ctx)
        run.note = ledger_note([f.result for f in fits]) or run.note
        train_report_task(trained, paths)
        decision = evaluate_task(params, paths)
        champion = promote_task(decision, params, paths)
        if decision.promote:
            run.charge("promotion_review")
        run.link(
            mlflow_run_id=trained.run_id,
            model_version=trained.version,  # the version it produced, promoted or not
            data_version=ctx.data_version,
        )
        publish_evaluation(decision, fits, ctx.experiment_id, trained.run_id)
        stages = dvc_record_task(paths, STAGES)
    if decision.promote and champion != trained.version:
        why = f"challenger v{trained.version} staged, awaiting approval: {decision.reason}"
        notify("awaiting_approval", params, paths, "train", why, stage.cost.total_usd, run_id())
    return TrainFlowResult(
        model_name=trained.model_name,
        challenger_version=trained.version,
        reused=trained.reused,
        promoted=decision.promote,
        reason=decision.reason,
        champion_version=champion,
        data_version=ctx.data_version,
        fits=fits,
        dvc_stages=stages,
        cost=stage.cost,
    )
