"""Retrain policy: on drift, decay or schedule, with enough new labels and the budget's consent."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Literal, Protocol

import pandas as pd

from lifecycle.config import Params
from lifecycle.features import split
from lifecycle.ledger.forecast import budget_guard as ledger_budget_guard
from lifecycle.ledger.meter import MeteredRun
from lifecycle.ledger.record import log_hours
from lifecycle.predictions import feedback_dir, join_outcomes, predictions_dir, read_lines
from lifecycle.validate import ValidationFailedError, validate_frame
from lifecycle.value.policy import ValueVerdict, value_verdict

if TYPE_CHECKING:
    from lifecycle.monitor.results import DriftReport
    from lifecycle.paths import Paths

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


def decide_retrain(
    report: DriftReport | None,
    labelled_rows: int,
    params: Params,
    budget_guard: BudgetGuard | None = None,
    *,
    value_guard: Callable[[Params], ValueVerdict] | None = None,
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
    if params.value.retrain_policy == "value":  # lifecycle.value.policy: N of M, uplift vs cost
        worth = (value_guard or value_verdict)(params)
        if not worth.allowed:
            alert = f"retrain wanted ({', '.join(triggers)}) but {worth.reason}"
            return RetrainDecision(False, tuple(triggers), (*reasons, alert), labelled_rows,
                                   alert=alert)  # fmt: skip
        reasons.append(worth.reason)
    guard = budget_guard or ledger_budget_guard
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
    role = next(iter(params.staffing.roles))
    entry = log_hours(
        role, 0.0, phase=PHASE, activity="retrain_blocked", note=decision.alert,
        params=params, url=url,
    )  # fmt: skip
    return str(entry.key)


def _utc(moment: datetime) -> datetime:
    """An aware UTC datetime (naive ones are taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# ---------------------------------------------------------------- the data a retrain learns from


@dataclass(frozen=True)
class TrainingData:
    """What a retrain learns from: where it came from, how many rows, and DVC's version of it."""

    source: Literal["feedback_window", "reference_and_feedback", "unchanged"]
    rows: int
    new_rows: int
    note: str


ORDER = ("time", "request_id", "record")  # the window's order: served time, then a stable key


def complete_log(params: Params, paths: Paths) -> tuple[pd.DataFrame, int]:
    """The log joined with its outcomes, once every outcome has its prediction line on disk.

    The service writes predictions in groups (every `serving.log_flush_seconds`) and outcomes at
    once, so a retrain started right after the last outcomes arrive could read a log that lacks
    the newest predictions: its window would then hold older rows, and the same month could
    train a different challenger from run to run. An outcome without its prediction line is that
    gap: wait (at most a few flush intervals) until it closes; what is still missing is counted.
    """
    wait = max(5.0, 5 * params.serving.log_flush_seconds)
    deadline = time.monotonic() + wait
    while True:
        preds, outcomes = read_lines(predictions_dir(paths)), read_lines(feedback_dir(paths))
        missing = outcomes_without_prediction(preds, outcomes)
        if not missing or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    if missing:
        log.warning("%d outcome(s) have no prediction line after %.0f s", missing, wait)
    return join_outcomes(preds, outcomes), missing


def outcomes_without_prediction(preds: pd.DataFrame, outcomes: pd.DataFrame) -> int:
    """How many (request, record) outcomes have no prediction line in the log."""
    key = ["request_id", "record"]
    if outcomes.empty or not set(key) <= set(outcomes.columns):
        return 0
    wanted = outcomes[key].drop_duplicates()
    if preds.empty or not set(key) <= set(preds.columns):
        return len(wanted)
    found = wanted.merge(preds[key].drop_duplicates(), on=key, how="left", indicator=True)
    return int((found["_merge"] == "left_only").sum())


def labelled_feedback(params: Params, paths: Paths) -> pd.DataFrame:
    """Served predictions that got an outcome: features, the target, an id, oldest first.

    The order is the served time, ties broken by (request_id, record), so the same log always
    gives the same rows in the same order (and the same newest window).
    """
    data = params.data
    frame, _ = complete_log(params, paths)
    if frame.empty or "outcome" not in frame.columns:
        return pd.DataFrame(columns=[data.id_column, *data.features, data.target])
    frame = frame[frame["outcome"].notna()].copy()
    frame["request_id"] = frame["request_id"].astype(str)
    frame = frame.sort_values(list(ORDER), kind="mergesort")
    out = frame[list(data.features)].copy()
    out[data.target] = frame["outcome"].to_numpy()
    # the log keeps no customer id: (request, record) identifies a served row uniquely
    ids = frame["request_id"] + ":" + frame["record"].astype(str)
    out.insert(0, data.id_column, ids.to_numpy())
    return out.drop_duplicates(data.id_column, keep="last").reset_index(drop=True)


def training_frame(
    params: Params, paths: Paths, new: pd.DataFrame
) -> tuple[pd.DataFrame, TrainingData]:
    """The newest `retrain.window_rows` labelled rows, or the reference period plus every one.

    `new` holds every labelled row the log has, so it is added to the reference period as it
    came (`data/raw/reference.parquet`, what the validate stage passed), not to the current
    validated set: after a promoted retrain that set already holds the earlier labelled rows.
    """
    data, window = params.data, params.retrain.window_rows
    if window is not None:
        chosen = new.tail(window).reset_index(drop=True)
        note = f"the newest {len(chosen)} labelled rows (retrain.window_rows is {window})"
        return chosen, TrainingData("feedback_window", len(chosen), len(chosen), note)
    old = pd.read_parquet(paths.raw_reference)
    both = pd.concat([old, new], ignore_index=True)
    both[data.id_column] = both[data.id_column].astype(str)
    note = f"{len(old)} reference rows plus {len(new)} labelled rows"
    return both, TrainingData("reference_and_feedback", len(both), len(new), note)


def refresh_training_data(params: Params, paths: Paths) -> TrainingData:
    """Put the new labelled rows into data/validated (gated by the suite) and re-split them."""
    new = labelled_feedback(params, paths)
    need = params.retrain.min_new_labelled_rows
    if len(new) < need:
        note = (
            f"{len(new)} labelled rows in the prediction log, retrain.min_new_labelled_rows is "
            f"{need}: retrained on the current data"
        )
        return TrainingData("unchanged", 0, len(new), note)
    frame, found = training_frame(params, paths, new)
    report = validate_frame(frame, params, "retrain-window")
    if not report.success:
        raise ValidationFailedError(report, None)
    paths.validated.parent.mkdir(parents=True, exist_ok=True)
    tmp = paths.validated.with_suffix(".parquet.tmp")
    frame.to_parquet(tmp, index=False)
    tmp.replace(paths.validated)
    split(params, paths)
    return found
