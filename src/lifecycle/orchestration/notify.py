"""Notices for the people on duty: events flows emit, automations that turn them into messages.

A flow emits `lifecycle.notice.<kind>` with the same payload for every kind (flow, run, run URL,
reason, cost so far); the deploy command creates one Prefect automation per kind that params
enable, each sending the event through one webhook notification block. Prefect's server sends
the message, so a webhook that does not answer never fails a flow: the server records the failed
action, and the deploy command logs a warning when the URL does not answer then. A crash cannot
emit anything: its automation reacts to Prefect's own `prefect.flow-run.Crashed` event.
"""

from __future__ import annotations

import hashlib
import logging
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from lifecycle.config import Params
from lifecycle.config.notifications import NoticeKind
from lifecycle.paths import Paths
from lifecycle.settings import get_settings
from lifecycle.validate import ValidationFailedError

log = logging.getLogger(__name__)

NOTICE_PREFIX = "lifecycle.notice."
PROJECT_LABEL = "lifecycle.project"
CRASHED_EVENT = "prefect.flow-run.Crashed"

BODY = (
    "{{ event.payload.flow }}: {{ event.payload.reason }}\n"
    "run: {{ event.payload.run_url }}\n"
    "cost so far: ${{ event.payload.cost_usd }}"
)
CRASH_BODY = (
    "{{ flow.name }}: flow run {{ flow_run.name }} crashed: {{ flow_run.state.message }}\n"
    "run: {{ flow_run|ui_url }}\n"
    "cost so far: not metered to the end (the ledger marks the run crashed)"
)


@dataclass(frozen=True)
class Notice:
    """What one notification says: which kind, about which flow run, why, and what it cost."""

    kind: NoticeKind
    flow: str
    reason: str
    cost_usd: float | None
    run_id: str | None

    def payload(self) -> dict[str, str]:
        """The event's payload, the same keys for every kind (the message template reads them)."""
        cost = "n/a" if self.cost_usd is None else f"{self.cost_usd:.4f}"
        return {
            "flow": self.flow,
            "run_id": self.run_id or "",
            "run_url": run_url(self.run_id),
            "reason": self.reason[:2000],
            "cost_usd": cost,
        }


def run_url(run_id: str | None) -> str:
    """The flow run's page in the Prefect UI (empty when not in a run)."""
    if not run_id:
        return ""
    return f"{get_settings().prefect_ui_url.rstrip('/')}/runs/flow-run/{run_id}"


def project_key(paths: Paths) -> str:
    """A short stable key for this project: several projects share one Prefect server."""
    return hashlib.sha256(str(paths.root).encode()).hexdigest()[:10]


def project_tag(paths: Paths) -> str:
    """The tag this project's deployments give their runs, as a related resource id."""
    return f"prefect.tag.{run_tag(paths)}"


def run_tag(paths: Paths) -> str:
    """The flow-run tag that ties a deployed run to its project (crash notices match it)."""
    return f"project:{project_key(paths)}"


def event_name(kind: NoticeKind) -> str:
    """The event a kind of notice is sent as."""
    return f"{NOTICE_PREFIX}{kind}"


def emit_notice(notice: Notice, paths: Paths) -> bool:
    """Emit one notice event; a failure to emit is logged, never raised (it must not fail a flow).

    Without a Prefect server (PREFECT_API_URL unset) no automation could act on it: skipped,
    rather than starting a throw-away server for an event nobody hears."""
    if not get_settings().prefect_api_url:
        log.info("notice %s for %s: no Prefect server to send it to", notice.kind, notice.flow)
        return False
    try:
        from prefect.events import emit_event

        sent = emit_event(
            event=event_name(notice.kind),
            resource={
                "prefect.resource.id": f"lifecycle.flow-run.{notice.run_id or 'none'}",
                PROJECT_LABEL: project_key(paths),
            },
            payload=notice.payload(),
        )
    except Exception as err:  # a notice is best effort: the flow's own outcome stands
        log.warning("notice %s for %s not emitted: %s", notice.kind, notice.flow, err)
        return False
    return sent is not None


def failure_kind(error: BaseException) -> NoticeKind:
    """A batch stopped by validation is a quarantine; any other error a failed flow."""
    return "batch_quarantined" if isinstance(error, ValidationFailedError) else "flow_failed"


def describe(error: BaseException) -> str:
    """The reason a failed run gives: the error's type and first line."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".rstrip(": ")


def crossed_budget(spent_after: float, run_usd: float, budget_usd: float | None) -> bool:
    """This run took the month's spend over its budget (so the notice goes out once a month)."""
    if budget_usd is None:
        return False
    return spent_after - run_usd <= budget_usd < spent_after


def budget_notice(
    params: Params, phase: str, flow: str, run_usd: float, run_id: str | None
) -> Notice | None:
    """The over-budget notice if this run took its phase over this month's budget."""
    from lifecycle.ledger.forecast import month_to_date

    budget = {str(k): v for k, v in params.budget.monthly_usd.items()}.get(phase)
    if budget is None:
        return None
    spent = month_to_date(get_settings().ledger_url, datetime.now(UTC)).get(phase, 0.0)
    if not crossed_budget(spent, run_usd, budget):
        return None
    reason = f"{phase} spend this month ${spent:,.2f} passed its budget ${budget:,.2f}"
    return Notice("over_budget", flow, reason, spent, run_id)


def after_stage(
    params: Params,
    paths: Paths,
    flow: str,
    phase: str,
    run_id: str | None,
    cost_usd: float,
    error: BaseException | None,
) -> None:
    """The notices a stage's end calls for: its failure, and the budget its cost passed."""
    enabled = set(params.notifications.events) if params.notifications.enabled else set()
    if error is not None and failure_kind(error) in enabled:
        emit_notice(Notice(failure_kind(error), flow, describe(error), cost_usd, run_id), paths)
    if "over_budget" in enabled:
        try:
            notice = budget_notice(params, phase, flow, cost_usd, run_id)
        except Exception as err:  # reading the ledger must not turn a run into a failure
            log.warning("budget check for %s failed: %s", flow, err)
            notice = None
        if notice is not None:
            emit_notice(notice, paths)


def notify(
    kind: NoticeKind,
    params: Params,
    paths: Paths,
    flow: str,
    reason: str,
    cost_usd: float | None,
    run_id: str | None,
) -> bool:
    """Emit a notice of a kind params enable (drift, a challenger awaiting approval)."""
    if not params.notifications.enabled or kind not in params.notifications.events:
        return False
    return emit_notice(Notice(kind, flow, reason, cost_usd, run_id), paths)


def webhook_answers(url: str, timeout: float = 3.0) -> bool:
    """Whether something listens at the webhook's host and port (checked when deploying)."""
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def automation_name(kind: NoticeKind, paths: Paths) -> str:
    """The automation's name on the server: one per kind and project."""
    return f"lifecycle-notify-{kind}-{project_key(paths)}"


def trigger_for(kind: NoticeKind, paths: Paths) -> Any:
    """The event trigger of one kind: our notice event of this project, or Prefect's crash."""
    from prefect.events.schemas.automations import EventTrigger, Posture

    if kind == "flow_crashed":
        return EventTrigger(
            expect={CRASHED_EVENT},
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related={
                "prefect.resource.role": "tag",
                "prefect.resource.id": project_tag(paths),
            },
            posture=Posture.Reactive,
            threshold=1,
        )
    return EventTrigger(
        expect={event_name(kind)},
        match={"prefect.resource.id": "lifecycle.flow-run.*", PROJECT_LABEL: project_key(paths)},
        posture=Posture.Reactive,
        threshold=1,
    )


def save_block(params: Params, url: str) -> Any:
    """The webhook notification block (created or overwritten); its document id."""
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    block = CustomWebhookNotificationBlock(
        name=params.notifications.block,
        url=url,
        json_data={"subject": "{{subject}}", "body": "{{body}}"},
    )
    return block.save(params.notifications.block, overwrite=True)


def create_automations(params: Params, paths: Paths) -> dict[str, str]:
    """One automation per enabled kind, replacing this project's earlier ones; kind -> id."""
    from prefect.client.orchestration import get_client
    from prefect.events.actions import SendNotification
    from prefect.events.schemas.automations import AutomationCore

    spec = params.notifications
    url = get_settings().notify_webhook_url
    if not spec.enabled or not spec.events:
        return {}
    if not url:
        log.warning("notifications: LIFECYCLE_NOTIFY_WEBHOOK_URL is not set; no automations made")
        return {}
    if not webhook_answers(url):
        log.warning("notifications: the webhook %s does not answer now; messages will fail", url)
    block_id = save_block(params, url)
    made: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        for kind in spec.events:
            name = automation_name(kind, paths)
            for old in client.read_automations_by_name(name):
                client.delete_automation(old.id)
            action = SendNotification(
                block_document_id=block_id,
                subject=f"[{params.project.name}] {kind.replace('_', ' ')}",
                body=CRASH_BODY if kind == "flow_crashed" else BODY,
            )
            auto = AutomationCore(name=name, trigger=trigger_for(kind, paths), actions=[action])
            made[kind] = str(client.create_automation(auto))
    return made
