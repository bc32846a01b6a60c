"""Training that does not converge: early stopping, a budget per candidate, and no silent pick.

Early stopping is switched on where the estimator has it (HistGradientBoosting: a validation
split of the training rows, stop after `n_iter_no_change` rounds without improvement). Each
candidate's fit is watched: a ConvergenceWarning (logistic regression's solver hitting
max_iter) is captured, and its wall and CPU seconds are checked against the budget at two
checkpoints: after cross-validation (over budget: the final fit is skipped, the candidate is
stopped) and after the final fit. A candidate that did not converge or went over its budget is
tagged in MLflow (`convergence.status`, `convergence.reason`) and never selected: training
fails, naming each candidate and why, when none is left.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from lifecycle.config.convergence import ConvergenceParams
from lifecycle.config.training import Candidate
from lifecycle.system import cpu_seconds

CONVERGED = "converged"
NOT_CONVERGED = "not_converged"
OVER_BUDGET = "over_budget"
STATUS_TAG = "convergence.status"
REASON_TAG = "convergence.reason"
EARLY_STOPPING_FAMILIES = frozenset({"hist_gradient_boosting"})


class NoConvergedCandidateError(RuntimeError):
    """Every candidate was stopped or did not converge: nothing may be selected."""


def with_early_stopping(candidate: Candidate, spec: ConvergenceParams) -> Candidate:
    """The candidate with early stopping on where its estimator has it (its own params win)."""
    if not spec.early_stopping or candidate.family not in EARLY_STOPPING_FAMILIES:
        return candidate
    added = {
        "early_stopping": True,
        "validation_fraction": spec.validation_fraction,
        "n_iter_no_change": spec.n_iter_no_change,
    }
    return candidate.model_copy(update={"params": {**added, **candidate.params}})


@dataclass
class Watch:
    """One candidate's fit as it goes: wall and CPU seconds, warnings, the verdict so far."""

    spec: ConvergenceParams
    started: float = field(default_factory=time.perf_counter)
    cpu_started: float = field(default_factory=cpu_seconds)
    reasons: list[str] = field(default_factory=list)
    stopped_at: str | None = None
    caught: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        """Wall seconds since the watch began."""
        return time.perf_counter() - self.started

    @property
    def cpu(self) -> float:
        """CPU seconds this process used since the watch began."""
        return cpu_seconds() - self.cpu_started

    def over_budget(self, checkpoint: str) -> bool:
        """Whether the fit passed its budget by this checkpoint (the reason is recorded)."""
        over = []
        if self.spec.max_seconds is not None and self.seconds > self.spec.max_seconds:
            over.append(f"{self.seconds:.1f} s wall > max_seconds {self.spec.max_seconds:g}")
        if self.spec.max_cpu_seconds is not None and self.cpu > self.spec.max_cpu_seconds:
            over.append(f"{self.cpu:.1f} CPU s > max_cpu_seconds {self.spec.max_cpu_seconds:g}")
        if over and self.stopped_at is None:
            self.stopped_at = checkpoint
            self.reasons.append(f"over budget after {checkpoint}: " + ", ".join(over))
        return bool(over)

    @property
    def status(self) -> str:
        """over_budget, not_converged or converged (in that order of precedence)."""
        if self.stopped_at is not None:
            return OVER_BUDGET
        return NOT_CONVERGED if self.caught else CONVERGED

    @property
    def reason(self) -> str:
        """Why the candidate is not selectable (empty when it is)."""
        parts = list(self.reasons)
        if self.caught:
            parts.append(f"ConvergenceWarning: {self.caught[0]}")
        return "; ".join(parts)[:4000]

    def tags(self) -> dict[str, str]:
        """The MLflow tags that record the verdict and what the fit used."""
        return {
            STATUS_TAG: self.status,
            REASON_TAG: self.reason or "-",
            "convergence.seconds": f"{self.seconds:.3f}",
            "convergence.cpu_seconds": f"{self.cpu:.3f}",
        }


@contextmanager
def watch(spec: ConvergenceParams) -> Iterator[Watch]:
    """Watch one candidate's fit: its ConvergenceWarnings are captured (and still shown once)."""
    from sklearn.exceptions import ConvergenceWarning

    seen = Watch(spec)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        try:
            yield seen
        finally:
            for w in caught:
                if issubclass(w.category, ConvergenceWarning):
                    seen.caught.append(str(w.message).splitlines()[0])
                else:
                    warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


class Judged(Protocol):
    """A fitted candidate as selection sees it."""

    @property
    def name(self) -> str: ...

    @property
    def convergence(self) -> str: ...

    @property
    def convergence_reason(self) -> str: ...


J = TypeVar("J", bound=Judged)


def selectable(results: Sequence[J]) -> list[J]:
    """The candidates that may be selected; an error naming each when none may."""
    fine = [r for r in results if r.convergence == CONVERGED]
    if results and not fine:
        why = "; ".join(f"{r.name}: {r.convergence} ({r.convergence_reason})" for r in results)
        raise NoConvergedCandidateError(f"no candidate converged within its budget: {why}")
    return fine


def ledger_note(results: Sequence[Judged]) -> str:
    """What the train flow's ledger entry notes about candidates that were not selectable."""
    bad = [f"{r.name} {r.convergence}" for r in results if r.convergence != CONVERGED]
    return f"not selectable: {', '.join(bad)}" if bad else ""
