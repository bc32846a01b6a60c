"""A ledger with months of history across phases, flows, model versions and serving."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from lifecycle.config import Params
from lifecycle.ledger.meter import MeteredRun, build_entry
from lifecycle.ledger.models import LedgerEntry
from lifecycle.ledger.pricing import Usage
from lifecycle.ledger.queries import write_rows
from lifecycle.ledger.record import record_serving_period
from lifecycle.ledger.session import get_engine

FLOWS = (("flow", "monitor"), ("flow", "retrain"), ("dvc_stage", "train"), ("dvc_stage", "ingest"))


def seeded_entries(params: Params, n: int, seed: int = 1) -> list[LedgerEntry]:
    """n flow and stage entries spread over the last 6 months, some with staffing."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    out = []
    for i in range(n):
        kind, name = FLOWS[i % len(FLOWS)]
        phase = ("development", "deployment", "maintenance")[i % 3]
        trigger = "drift" if name == "retrain" else rng.choice(("schedule", "manual", "ci"))
        run = MeteredRun(f"seed-{i}", kind, name, phase, trigger, params)
        run.link(
            model_version=str(1 + i % 4),
            mlflow_run_id=f"{i:032x}",
            prefect_flow_run_id=f"00000000-0000-0000-0000-{i:012d}",
        )
        if name == "retrain":
            run.charge("retrain_review")
        start = now - timedelta(days=rng.uniform(0, 180))
        if i == 0:  # this month always has a run, even in its first minutes
            start = now
        wall = rng.uniform(5, 900)
        usage = Usage(wall, wall * rng.uniform(0.2, 1.8), rng.randint(10**8, 6 * 10**9))
        out.append(
            build_entry(
                run,
                status=rng.choice(("succeeded", "succeeded", "failed")),
                started_at=start,
                ended_at=start + timedelta(seconds=wall),
                usage=usage,
            )
        )
    return out


def seed_ledger(params: Params, url: str, n: int) -> None:
    """Write n entries in one transaction, plus a week of serving periods."""
    entries = seeded_entries(params, n)
    with get_engine(url).begin() as conn:
        for e in entries:
            write_rows(conn, e)
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=7)
    for h in range(0, 7 * 24, 6):
        record_serving_period(
            start + timedelta(hours=h),
            start + timedelta(hours=h + 6),
            predictions=1000 + h,
            model_version="3",
            params=params,
            url=url,
        )
