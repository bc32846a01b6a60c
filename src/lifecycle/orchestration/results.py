"""What each flow returns: frozen, typed results (no dicts are passed between flows)."""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.train import CandidateResult


@dataclass(frozen=True)
class Cost:
    """A flow run's own ledger entry: its key and what it cost (children are priced apart)."""

    ledger_key: str
    total_usd: float
    compute_usd: float
    staff_usd: float


@dataclass(frozen=True)
class FitOutcome:
    """One candidate fit and where it ran (the Dask worker's address, or 'local')."""

    result: CandidateResult
    worker: str
    pid: int


@dataclass(frozen=True)
class IngestFlowResult:
    """The data the ingest flow produced and validated, with DVC's version of it."""

    rows: int
    reference_rows: int
    batches: int
    validated_rows: int
    train_rows: int
    holdout_rows: int
    data_version: str
    dvc_stages: tuple[str, ...]
    cost: Cost


@dataclass(frozen=True)
class TrainFlowResult:
    """The challenger trained (or reused), the decision on it and the champion afterwards."""

    model_name: str
    challenger_version: str
    reused: bool
    promoted: bool
    reason: str
    champion_version: str | None
    data_version: str
    fits: tuple[FitOutcome, ...]
    dvc_stages: tuple[str, ...]
    cost: Cost

    @property
    def workers(self) -> frozenset[str]:
        """The workers the candidate fits ran on."""
        return frozenset(f.worker for f in self.fits)


@dataclass(frozen=True)
class MonitorFlowResult:
    """The drift verdict of one window and the retrain policy's answer."""

    window: str
    verdict: str
    drift: bool
    reasons: tuple[str, ...]
    labelled_rows: int
    retrain: bool
    retrain_reasons: tuple[str, ...]
    report: str
    event_emitted: bool
    model_version: str | None
    cost: Cost
    retrained: RetrainFlowResult | None = None


@dataclass(frozen=True)
class RetrainFlowResult:
    """Why a retrain ran and what its training produced."""

    window: str
    reasons: tuple[str, ...]
    train: TrainFlowResult
    cost: Cost
    data_source: str = "unchanged"
    data_rows: int = 0
    new_rows: int = 0

    @property
    def promoted(self) -> bool:
        """The retrain's challenger became champion."""
        return self.train.promoted


@dataclass(frozen=True)
class LifecycleResult:
    """The whole loop: data, training, the month's monitoring and the retrain if one ran."""

    flow_run_id: str
    ingest: IngestFlowResult
    train: TrainFlowResult
    monitor: MonitorFlowResult
    retrain: RetrainFlowResult | None
    cost: Cost

    @property
    def costs(self) -> tuple[Cost, ...]:
        """Every ledger entry of the run: this flow's and its subflows'."""
        parts = [self.cost, self.ingest.cost, self.train.cost, self.monitor.cost]
        if self.retrain is not None:
            parts += [self.retrain.cost, self.retrain.train.cost]
        return tuple(parts)

    @property
    def total(self) -> Cost:
        """The run's cost: the sum of its entries."""
        parts = self.costs
        return Cost(
            self.cost.ledger_key,
            sum(p.total_usd for p in parts),
            sum(p.compute_usd for p in parts),
            sum(p.staff_usd for p in parts),
        )

    @property
    def champion_version(self) -> str | None:
        """The champion after the run."""
        last = self.retrain.train if self.retrain is not None else self.train
        return last.champion_version
