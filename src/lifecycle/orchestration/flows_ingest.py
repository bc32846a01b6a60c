"""The ingest flow: snapshot, validate and split the data, then record it in DVC."""

from __future__ import annotations

from prefect import flow

from lifecycle.orchestration.results import IngestFlowResult
from lifecycle.orchestration.stage import stage_run
from lifecycle.orchestration.tasks import dvc_record_task, ingest_task, split_task, validate_task
from lifecycle.validate import ValidationFailedError
from lifecycle.versioning import dvc_md5

STAGES = ("ingest", "validate", "split")


@flow(name="ingest")
def ingest_flow(
    params_file: str | None = None, trigger: str = "manual", phase: str = "development"
) -> IngestFlowResult:
    """A batch that fails validation is quarantined and fails the flow: nothing downstream runs."""
    with stage_run("ingest", phase, trigger, params_file) as stage, stage.ledger() as run:
        params, paths = stage.params, stage.paths
        raw = ingest_task(params, paths)
        try:
            validate_task(params, paths)
        except ValidationFailedError:
            run.charge("validation_triage")
            dvc_record_task(paths, STAGES[:1])
            raise
        parts = split_task(params, paths)
        data_version = dvc_md5(paths.validated)
        run.link(data_version=data_version)
        stages = dvc_record_task(paths, STAGES)
    return IngestFlowResult(
        rows=raw.rows,
        reference_rows=raw.reference_rows,
        batches=len(raw.batches),
        validated_rows=parts.train_rows + parts.holdout_rows,
        train_rows=parts.train_rows,
        holdout_rows=parts.holdout_rows,
        data_version=data_version,
        dvc_stages=stages,
        cost=stage.cost,
    )
