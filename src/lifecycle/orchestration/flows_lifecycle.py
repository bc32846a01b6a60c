"""The whole loop as one flow: ingest, train, evaluate, promote, monitor a month, retrain if due."""

from __future__ import annotations

from prefect import flow

from lifecycle.orchestration.flows_ingest import ingest_flow
from lifecycle.orchestration.flows_monitor import monitor_flow
from lifecycle.orchestration.flows_retrain import retrain_flow
from lifecycle.orchestration.flows_train import train_flow
from lifecycle.orchestration.results import LifecycleResult
from lifecycle.orchestration.runtime import run_id
from lifecycle.orchestration.stage import stage_run


@flow(name="lifecycle")
def lifecycle_flow(
    params_file: str | None = None,
    month: int | None = None,
    scenario: str | None = None,
    trigger: str = "manual",
    phase: str = "development",
) -> LifecycleResult:
    """Each step is a subflow metered as a child of this run; a failure stops the steps after it.

    This run's own entry opens first and holds its own overhead; its tags and artifact show the
    whole loop's cost (its children's included).
    """
    with stage_run("lifecycle", phase, trigger, params_file) as stage, stage.ledger() as run:
        spec = stage.params.orchestration
        data = ingest_flow(params_file, trigger=trigger, phase=phase)
        trained = train_flow(params_file, trigger=trigger, phase=phase)
        watched = monitor_flow(
            params_file,
            month=month or spec.monitor_month,
            scenario=scenario if scenario is not None else spec.monitor_scenario,
            trigger=trigger,
            emit=False,
        )
        again = None
        if watched.retrain:
            again = retrain_flow(
                params_file, window=watched.window, reasons=list(watched.retrain_reasons),
                trigger="drift",
            )  # fmt: skip
        champion = again.train.champion_version if again else trained.champion_version
        run.link(model_version=champion, data_version=data.data_version)
    return LifecycleResult(run_id(), data, trained, watched, again, stage.cost)
