"""The monitor flow: drift of one window, the retrain policy, and the event a retrain reacts to."""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.events import emit_event

from lifecycle.config import Params
from lifecycle.monitor.results import DriftReport
from lifecycle.orchestration.artifacts import publish_drift
from lifecycle.orchestration.events import DRIFT_EVENT, RETRAIN_LABEL, model_resource
from lifecycle.orchestration.flows_retrain import retrain_flow
from lifecycle.orchestration.notify import notify
from lifecycle.orchestration.results import MonitorFlowResult
from lifecycle.orchestration.runtime import run_id
from lifecycle.orchestration.stage import stage_run
from lifecycle.orchestration.tasks import decide_retrain_task, drift_task, io_task, labels_task
from lifecycle.orchestration.value_artifacts import value_task
from lifecycle.paths import Paths
from lifecycle.registry import CHAMPION, version_by_alias
from lifecycle.retrain import RetrainDecision, record_blocked


@io_task("champion-version")
def champion_task(params: Params, paths: Paths) -> str | None:
    """The version @champion points at, if any."""
    found = version_by_alias(paths, params.mlflow.model_name, CHAMPION)
    return None if found is None else str(found.version)


def emit_drift(params: Params, report: DriftReport, decision: RetrainDecision) -> None:
    """Tell Prefect what drifted; the retrain deployment's trigger matches retrain=true."""
    emit_event(
        event=DRIFT_EVENT,
        resource={
            "prefect.resource.id": model_resource(params.mlflow.model_name),
            RETRAIN_LABEL: str(decision.retrain).lower(),
        },
        payload={
            "window": report.window,
            "verdict": report.verdict,
            "reasons": list(decision.reasons),
        },
    )


@flow(name="monitor")
def monitor_flow(
    params_file: str | None = None,
    month: int | None = None,
    window: str | None = None,
    scenario: str | None = None,
    trigger: str = "manual",
    phase: str = "maintenance",
    emit: bool = True,
    run_retrain: bool = False,
) -> MonitorFlowResult:
    """Check a window against the reference; on a retrain verdict emit the event or retrain here.

    emit: publish the drift event (the retrain deployment's trigger); run_retrain: run the
    retrain flow as a subflow instead, for setups without a worker (then emit nothing, or a
    deployment would retrain a second time).
    """
    if emit and run_retrain:
        raise ValueError("monitor: emit and run_retrain together would retrain twice; pick one")
    where = Path(window) if window else None
    with stage_run("monitor", phase, trigger, params_file) as stage, stage.ledger() as run:
        params, paths = stage.params, stage.paths
        champion = champion_task(params, paths)
        model = "champion" if champion else None
        outcome = drift_task(params, paths, where, month, scenario, model)
        labelled = labels_task(params, paths, where, month)
        report = outcome.report
        decision = decide_retrain_task(report, labelled, params)
        found = bool(report.data_drift or report.prediction_drift or report.performance_decay)
        if found:
            run.charge("drift_investigation")
        record_blocked(decision, params, run)
        run.link(mlflow_run_id=outcome.mlflow_run_id, model_version=champion)
        publish_drift(report)
        value_task(params, paths, where, {"prefect_flow_run_id": run_id(), "model_version": None})
        emitted = emit and found
        if emitted:
            emit_drift(params, report, decision)
    if found:
        why = f"drift in {report.window}: {report.verdict}; " + "; ".join(report.reasons)
        notify("drift", params, paths, "monitor", why, stage.cost.total_usd, run_id())
    again = None
    if run_retrain and decision.retrain:
        again = retrain_flow(
            params_file, window=report.window, reasons=list(decision.reasons), trigger="drift"
        )
    return MonitorFlowResult(
        window=report.window,
        verdict=report.verdict,
        drift=found,
        reasons=report.reasons,
        labelled_rows=labelled,
        retrain=decision.retrain,
        retrain_reasons=decision.reasons,
        report=str(outcome.json_path),
        event_emitted=emitted,
        model_version=champion,
        cost=stage.cost,
        retrained=again,
    )
