"""The ledger's SQL schema: entries and their staffing lines, with the indexes reports read."""

from __future__ import annotations

from functools import cache

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from lifecycle.ledger.models import LINK_FIELDS
from lifecycle.paths import DEFAULT_USE_CASE

USE_CASE_INDEX = "ix_ledger_use_case"


@cache
def tables() -> tuple[MetaData, Table, Table]:
    """The ledger's two tables, built once on first use (no work at import)."""
    metadata = MetaData()
    entries = Table(
        "ledger_entries",
        metadata,
        Column("key", String(200), primary_key=True),
        Column("kind", String(40), nullable=False),
        Column("name", String(200), nullable=False),
        Column("phase", String(20), nullable=False),
        Column("trigger", String(20), nullable=False),
        Column("status", String(20), nullable=False),
        Column("started_at", DateTime, nullable=False),
        Column("ended_at", DateTime),
        Column("day", String(10), nullable=False),
        Column("month", String(7), nullable=False),
        Column("wall_seconds", Float, nullable=False),
        Column("cpu_seconds", Float, nullable=False),
        Column("peak_memory_bytes", BigInteger, nullable=False),
        Column("gpu_seconds", Float, nullable=False),
        Column("storage_bytes", BigInteger, nullable=False),
        Column("request_cpu_cores", Float, nullable=False),
        Column("request_memory_gb", Float, nullable=False),
        Column("request_gpus", Float, nullable=False),
        Column("predictions", BigInteger, nullable=False),
        *(Column(name, String(200)) for name in LINK_FIELDS),
        Column("cpu_usd", Float, nullable=False),
        Column("ram_usd", Float, nullable=False),
        Column("gpu_usd", Float, nullable=False),
        Column("storage_usd", Float, nullable=False),
        Column("compute_usd", Float, nullable=False),
        Column("staff_usd", Float, nullable=False),
        Column("total_usd", Float, nullable=False),
        Column("price_sheet", String(32), nullable=False),
        Column("host", String(200), nullable=False),
        Column("pid", Integer, nullable=False),
        Column("error", Text),
        Column("note", Text),
        Column("parent_key", String(200)),  # the run this one ran inside; rows hold own usage
        Column("use_case", String(40), nullable=False, server_default=DEFAULT_USE_CASE),
        Column("recorded_at", DateTime, nullable=False),
        Index("ix_ledger_day", "day"),
        # covering indexes: the forecast and the dashboard read only these columns
        Index("ix_ledger_rates", "started_at", "kind", "name", "phase", "total_usd"),
        Index(
            "ix_ledger_rollup",
            "month",
            "phase",
            "name",
            "kind",
            "model_version",
            "compute_usd",
            "staff_usd",
            "total_usd",
            "predictions",
        ),
        Index("ix_ledger_status", "status"),
        Index("ix_ledger_total", "total_usd"),
        Index(USE_CASE_INDEX, "use_case", "month", "total_usd"),
    )
    staff = Table(
        "ledger_staff_lines",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column(
            "entry_key",
            String(200),
            ForeignKey("ledger_entries.key", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        Column("activity", String(100), nullable=False),
        Column("role", String(100), nullable=False),
        Column("hours", Float, nullable=False),
        Column("rate_usd", Float, nullable=False),
        Column("usd", Float, nullable=False),
    )
    value_entries(metadata)
    return metadata, entries, staff


VALUE_TABLE = "value_entries"


def value_entries(metadata: MetaData) -> Table:
    """What a model version earned in a period (lifecycle.value): its own table, not cost rows."""
    money = ("est_value_usd", "est_value_low", "est_value_high", "est_roc_auc", "est_roc_auc_low",
             "est_roc_auc_high", "est_precision", "est_precision_low", "est_precision_high",
             "value_usd", "roc_auc", "precision", "baseline_random_usd", "baseline_previous_usd",
             "value_error_usd", "roc_auc_error", "calibration_ece")  # fmt: skip
    return Table(
        VALUE_TABLE,
        metadata,
        Column("key", String(200), primary_key=True),  # value:<model>:<period>:v<version>
        Column("model_name", String(200), nullable=False),
        Column("period", String(100), nullable=False),
        Column("period_start", DateTime, nullable=False),
        Column("period_end", DateTime, nullable=False),
        Column("month", String(7), nullable=False),
        Column("status", String(20), nullable=False),  # estimated | realized | uncalibrated
        Column("rows", Integer, nullable=False),
        Column("labelled_rows", Integer, nullable=False),
        Column("contacted", Integer, nullable=False),
        Column("calibration", String(20), nullable=False),
        Column("previous_version", String(200)),
        Column("decay", Integer, nullable=False),
        *(Column(name, Float) for name in money),
        *(Column(name, String(200)) for name in LINK_FIELDS),
        Column("note", Text),
        Column("recorded_at", DateTime, nullable=False),
        Index("ix_value_version_month", "model_name", "model_version", "month"),
    )


def value_table() -> Table:
    """The value entries' table (created with the ledger's schema)."""
    return tables()[0].tables[VALUE_TABLE]
