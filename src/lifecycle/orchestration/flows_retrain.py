"""The retrain flow: started by the drift event (or by hand), it reviews and runs the train flow."""

from __future__ import annotations

from prefect import flow

from lifecycle.orchestration.flows_train import train_flow
from lifecycle.orchestration.results import RetrainFlowResult
from lifecycle.orchestration.stage import stage_run
from lifecycle.orchestration.tasks import dvc_record_task, refresh_data_task
from lifecycle.pipeline_state import kept_aside

STAGES = ("validate", "split")


@flow(name="retrain")
def retrain_flow(
    params_file: str | None = None,
    window: str = "",
    reasons: list[str] | None = None,
    trigger: str = "event",
    phase: str = "maintenance",
) -> RetrainFlowResult:
    """Charge the review, add the new labelled rows as a new data version, then train.

    When the challenger is not promoted (or anything fails), the champion's data, reference
    and reports are put back, so monitoring keeps judging against what the champion knows.
    """
    why = tuple(reasons or ())
    with stage_run("retrain", phase, trigger, params_file) as stage, stage.ledger() as run:
        run.charge("retrain_review")
        # the champion's data comes back unless the retrain wins
        with kept_aside(stage.paths) as state:
            data = refresh_data_task(stage.params, stage.paths)
            if data.source != "unchanged":
                dvc_record_task(stage.paths, STAGES)
            run.note = f"window {window or '-'}: {data.note}; " + "; ".join(why)[:1500]
            trained = train_flow(params_file, trigger=trigger, phase=phase)  # a child entry
            if trained.champion_version == trained.challenger_version:
                state.keep()
        # the review judged this challenger: its time is part of that version's cost
        run.link(model_version=trained.challenger_version, data_version=trained.data_version)
        stage.model_version = trained.champion_version or trained.challenger_version
    return RetrainFlowResult(
        window=window, reasons=why, train=trained, cost=stage.cost, data_source=data.source,
        data_rows=data.rows, new_rows=data.new_rows,
    )  # fmt: skip
