"""The retention flow: delete prediction-log and feedback days past `privacy.retention_days`."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import flow

from lifecycle.orchestration.results import Cost
from lifecycle.orchestration.stage import stage_run
from lifecycle.retention import RetentionResult, prune


@dataclass(frozen=True)
class RetentionFlowResult:
    """What the pass deleted and what it cost."""

    retention: RetentionResult
    cost: Cost

    def summary(self) -> str:
        """One paragraph for the CLI."""
        r = self.retention
        if r.retention_days is None:
            return (
                f"  privacy.retention_days is null: nothing deleted\n  cost: {self.cost.summary()}"
            )
        return (
            f"  kept from {r.cutoff} ({r.retention_days} days): deleted {r.days_deleted} day "
            f"folder(s), {r.files_deleted} file(s), {r.outcome_rows_deleted} outcome index row(s)"
            f"\n  cost: {self.cost.summary()}"
        )


@flow(name="retention")
def retention_flow(
    params_file: str | None = None, trigger: str = "manual", phase: str = "maintenance"
) -> RetentionFlowResult:
    """Personal data is kept no longer than params say: one priced pass over both logs."""
    with stage_run("retention", phase, trigger, params_file) as stage, stage.ledger() as run:
        found = prune(stage.paths, stage.params.privacy.retention_days)
        run.note = (
            f"retention: {found.days_deleted} day(s), {found.outcome_rows_deleted} outcome row(s)"
        )
    return RetentionFlowResult(found, stage.cost)
