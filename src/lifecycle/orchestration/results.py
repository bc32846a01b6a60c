"""What each flow returns: frozen, typed results (no dicts are passed between flows).

Each result has `summary()`: the few lines a person reads at the end of a run (the CLI prints
them; `--json` gives machines `to_json()` instead).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from lifecycle.train import CandidateResult


def to_json(result: Any) -> str:
    """A flow result as JSON, every nested result and tuple included (for `--json`)."""
    return json.dumps(dataclasses.asdict(result), indent=2, sort_keys=True, default=str)


def _short(version: str) -> str:
    """A data version (an md5) short enough to read, long enough to find."""
    return version[:12] if version else "-"


@dataclass(frozen=True)
class Cost:
    """A flow run's own ledger entry: its key and what it cost (children are priced apart)."""

    ledger_key: str
    total_usd: float
    compute_usd: float
    staff_usd: float

    def summary(self) -> str:
        """One line: total, then its compute and staff parts."""
        return (
            f"${self.total_usd:,.4f} (compute ${self.compute_usd:.4f}, "
            f"staff ${self.staff_usd:,.2f})"
        )


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

    def summary(self) -> str:
        """Rows in, rows validated, the split, the data version and the cost."""
        return "\n".join([
            f"ingested {self.rows} rows ({self.batches} monthly batches); "
            f"{self.validated_rows} validated",
            f"split: train {self.train_rows}, holdout {self.holdout_rows}",
            f"data version: {_short(self.data_version)}",
            f"cost: {self.cost.summary()}",
        ])  # fmt: skip


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

    def summary(self) -> str:
        """Champion, challenger, whether it was promoted and why, data version, cost."""
        champion = f"v{self.champion_version}" if self.champion_version else "none"
        how = "reused (same data and params)" if self.reused else "newly trained"
        verdict = "PROMOTED" if self.promoted else "not promoted"
        lines = [
            f"champion:   {self.model_name} {champion}",
            f"challenger: v{self.challenger_version}, {how}",
            f"decision:   {verdict}: {self.reason}",
        ]
        if self.fits:
            best = max(self.fits, key=lambda f: f.result.selection_score)
            lines.append(
                f"candidates: {', '.join(f.result.name for f in self.fits)} "
                f"(best {best.result.name}, {best.result.selection_score:,.4f})"
            )
        lines += [f"data:       {_short(self.data_version)}", f"cost:       {self.cost.summary()}"]
        return "\n".join(lines)


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

    def summary(self) -> str:
        """The window's verdict and why, whether a retrain is due, the cost."""
        model = f"v{self.model_version}" if self.model_version else "no model"
        lines = [f"window {self.window}: {self.verdict} (scored by {model})"]
        lines += [f"  {r}" for r in self.reasons]
        due = "retrain due" if self.retrain else "no retrain"
        why = f": {'; '.join(self.retrain_reasons)}" if self.retrain_reasons else ""
        lines.append(f"{due}{why} ({self.labelled_rows} labelled rows)")
        if self.retrained is not None:
            lines.append(f"retrained: {self.retrained.train.reason}")
        lines.append(f"cost: {self.cost.summary()}")
        return "\n".join(lines)


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

    def summary(self) -> str:
        """Why it ran, on which data, then what its training decided."""
        why = "; ".join(self.reasons) or "asked for"
        return "\n".join([
            f"retrain of {self.window}: {why}",
            f"data: {self.data_source}, {self.data_rows} rows ({self.new_rows} new)",
            self.train.summary(),
            f"retrain cost: {self.cost.summary()}",
        ])  # fmt: skip


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

    def summary(self) -> str:
        """The champion, each step's outcome in a line, and what the whole run cost."""
        champion = f"v{self.champion_version}" if self.champion_version else "none"
        t = self.train
        lines = [
            f"champion:  {t.model_name} {champion}",
            f"data:      {self.ingest.validated_rows} rows validated, "
            f"version {_short(self.ingest.data_version)}",
            f"train:     v{t.challenger_version} {'PROMOTED' if t.promoted else 'kept'}: "
            f"{t.reason}",
            f"monitor:   {self.monitor.window}: {self.monitor.verdict}",
        ]
        if self.retrain is not None:
            lines.append(f"retrained: {self.retrain.train.reason}")
        lines.append(f"cost:      {self.total.summary()}")
        return "\n".join(lines)
