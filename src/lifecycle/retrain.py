"""Retrain policy: on drift, decay or schedule, with enough new labels and the budget's consent."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

from lifecycle.config import Params

if TYPE_CHECKING:
    from lifecycle.ledger.meter import MeteredRun
    from lifecycle.monitor import DriftReport

Trigger = Literal["drift", "decay", "schedule"]
PHASE = "maintenance"
log = logging.getLogger(__name__)


class GuardAnswer(Protocol):
    """What a budget guard answers (lifecycle.ledger.forecast.BudgetVerdict fits)."""

    @property
    def allowed(self) -> bool:
        """May the spend go ahead."""

    @property
    def reason(self) -> str:
        """Why, in a sentence."""


BudgetGuard = Callable[..., GuardAnswer]


class RetrainError(ValueError):
    """An input the policy cannot judge, named with what is wrong."""


@dataclass(frozen=True)
class RetrainDecision:
    """Whether to retrain, what triggered it, and what (if anything) blocked it."""

    retrain: bool
    triggers: tuple[Trigger, ...]
    reasons: tuple[str, ...]
    labelled_rows: int
    blocked_by_data: bool = False
    blocked_by_budget: bool = False
    budget_reason: str | None = None
    alert: str | None = None

    @property
    def blocked(self) -> bool:
        """A trigger fired but the retrain may not run."""
        return self.blocked_by_data or self.blocked_by_budget


def _default_guard() -> BudgetGuard:
    """The ledger's guard, imported only when a decision needs it."""
    from lifecycle.ledger.forecast import budget_guard

    return budget_guard


def decide_retrain(
    report: DriftReport | None,
    labelled_rows: int,
    params: Params,
    budget_guard: BudgetGuard | None = None,
    *,
    last_trained: datetime | None = None,
    now: datetime | None = None,
) -> RetrainDecision:
    """Retrain on drift, decay or schedule, only with enough new labels and the budget's consent."""
    if isinstance(labelled_rows, bool) or not isinstance(labelled_rows, int) or labelled_rows < 0:
        raise RetrainError(f"labelled_rows = {labelled_rows!r}: must be an integer >= 0")
    policy = params.retrain
    triggers: list[Trigger] = []
    reasons: list[str] = []
    if report is not None:
        if report.data_drift or report.prediction_drift:
            triggers.append("drift")
            reasons.append(f"drift in window {report.window!r}: " + "; ".join(report.reasons[:3]))
        if report.performance_decay:
            triggers.append("decay")
            perf = report.performance.reasons if report.performance else ()
            reasons.append(f"performance decay in window {report.window!r}: " + "; ".join(perf))
    if last_trained is not None:
        moment = _utc(now or datetime.now(UTC))
        age = moment - _utc(last_trained)
        if age >= timedelta(days=policy.schedule_days):
            triggers.append("schedule")
            reasons.append(
                f"schedule: last trained {age.total_seconds() / 86400:.1f} days ago, "
                f"retrain.schedule_days is {policy.schedule_days:g}"
            )
    if not triggers:
        why = "no trigger: no drift, no performance decay"
        why += ", schedule not due" if last_trained is not None else ", no schedule reference"
        if report is not None and report.verdict == "insufficient":
            why += f" (window {report.window!r} too small to judge)"
        return RetrainDecision(False, (), (why,), labelled_rows)
    if labelled_rows < policy.min_new_labelled_rows:
        alert = (
            f"retrain wanted ({', '.join(triggers)}) but blocked: {labelled_rows} new labelled "
            f"rows, retrain.min_new_labelled_rows is {policy.min_new_labelled_rows}"
        )
        log.warning(alert)
        return RetrainDecision(
            False, tuple(triggers), (*reasons, alert), labelled_rows, blocked_by_data=True,
            alert=alert,
        )  # fmt: skip
    guard = budget_guard or _default_guard()
    answer = guard(params, phase=PHASE, planned_usd=policy.planned_usd)
    if not answer.allowed:
        alert = f"retrain wanted ({', '.join(triggers)}) but blocked by the budget: {answer.reason}"
        log.warning(alert)
        return RetrainDecision(
            False, tuple(triggers), (*reasons, alert), labelled_rows, blocked_by_budget=True,
            budget_reason=answer.reason, alert=alert,
        )  # fmt: skip
    ok = f"budget allows ${policy.planned_usd:,.2f}: {answer.reason}"
    return RetrainDecision(
        True, tuple(triggers), (*reasons, ok), labelled_rows, budget_reason=answer.reason
    )


def record_blocked(
    decision: RetrainDecision,
    params: Params,
    run: MeteredRun | None = None,
    url: str | None = None,
) -> str | None:
    """Put a blocked decision's alert in the ledger: on the metered run, else in its own row."""
    if not decision.blocked or decision.alert is None:
        return None
    if run is not None:
        run.note = f"{run.note}; {decision.alert}" if run.note else decision.alert
        return run.key
    from lifecycle.ledger.meter import log_hours

    role = next(iter(params.staffing.roles))
    entry = log_hours(
        role, 0.0, phase=PHASE, activity="retrain_blocked", note=decision.alert,
        params=params, url=url,
    )  # fmt: skip
    return str(entry.key)


def _utc(moment: datetime) -> datetime:
    """An aware UTC datetime (naive ones are taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
