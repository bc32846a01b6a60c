"""Which events page the people on duty, through which Prefect notification block."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from lifecycle.config.base import Frozen

NoticeKind = Literal[
    "flow_failed", "flow_crashed", "batch_quarantined", "drift", "awaiting_approval", "over_budget"
]
NOTICE_KINDS: tuple[NoticeKind, ...] = (
    "flow_failed",
    "flow_crashed",
    "batch_quarantined",
    "drift",
    "awaiting_approval",
    "over_budget",
)


class NotificationParams(Frozen):
    """Automations the deploy command creates; the webhook URL comes from the environment."""

    enabled: bool = True
    events: tuple[NoticeKind, ...] = NOTICE_KINDS
    block: str = Field(default="lifecycle-notify", min_length=1, pattern=r"^[a-z0-9-]+$")

    @field_validator("events")
    @classmethod
    def _no_repeats(cls, value: tuple[NoticeKind, ...]) -> tuple[NoticeKind, ...]:
        """Each event once: two automations for one event would page twice."""
        repeated = sorted({k for k in value if value.count(k) > 1})
        if repeated:
            raise ValueError(f"notifications.events = {list(value)}: repeats {repeated}")
        return value
