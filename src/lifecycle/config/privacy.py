"""Personal data: which columns are personal beyond the id, and how long logs are kept."""

from __future__ import annotations

from pydantic import Field

from lifecycle.config.base import Frozen


class PrivacyParams(Frozen):
    """Columns pseudonymized wherever written outside data/raw; the logs' retention period."""

    # columns of the source beyond data.id_column that identify a person (never a feature:
    # a feature's values are what drift and retraining compare, a pseudonym would hide them)
    personal: tuple[str, ...] = ()
    # prediction-log and feedback day files older than this many days are deleted by the
    # retention flow (null: kept forever)
    retention_days: int | None = Field(default=365, ge=1)
    # when the retention deployment runs (cron, in orchestration.timezone)
    retention_cron: str = Field(default="30 5 * * *", min_length=9)
