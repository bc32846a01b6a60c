"""The whole loop as one flow: ingest, train, evaluate, promote, monitor a month, retrain if due."""

from __future__ import annotations

from prefect import flow

from lifecycle.orchestration.artifacts import publish_cost
from lifecycle.orchestration.flows_ingest import ingest_flow
from lifecycle.orchestration.flows_monitor import monitor_flow
from lifecycle.orchestration.flows_retrain import retrain_flow
from lifecycle.orchestration.flows_train import train_flow
from lifecycle.orchestration.results import LifecycleResult
from lifecycle.orchestration.runtime import cost_of, ledger, run_id, setup, tag_run


@flow(name="lifecycle")
def lifecycle_flow(
    params_file: str | None = None,
    month: int | None = None,
    scenario: str | None = None,
    trigger: str = "manual",
    phase: str = "development",
) -> LifecycleResult:
    """Each step is a subflow with its own ledger entry; a failure stops the steps after it."""
    params, paths = setup(params_file)
    tag_run("stage:lifecycle", f"trigger:{trigger}")
    spec = params.orchestration
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
    with ledger("lifecycle", phase, trigger, params, paths) as run:
        champion = again.train.champion_version if again else trained.champion_version
        run.link(model_version=champion, data_version=data.data_version)
    result = LifecycleResult(run_id(), data, trained, watched, again, cost_of(run))
    if champion:
        tag_run(f"model:v{champion}")
    publish_cost("lifecycle", result.total)
    return result
