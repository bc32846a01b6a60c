"""The retention flow on the shared Prefect server: old log days go, the pass is priced."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from lifecycle.ledger.queries import iter_entries
from lifecycle.paths import Paths

pytestmark = pytest.mark.slow


def test_retention_flow_deletes_old_days_and_writes_one_ledger_entry(
    project: Path, prefect_api: str
) -> None:
    """privacy.retention_days 30: a 40-day-old day folder goes, today's stays; one flow entry."""
    from lifecycle.orchestration.flows_privacy import retention_flow

    raw = yaml.safe_load((project / "params.yaml").read_text())
    raw["privacy"]["retention_days"] = 30
    (project / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    paths, today = Paths(project), datetime.now(UTC).date()
    old, new = (paths.predictions / f"date={d.isoformat()}" for d in (today - timedelta(40), today))
    for day in (old, new, paths.data / "feedback" / old.name):
        day.mkdir(parents=True)
        (day / "x-1.jsonl").write_text("{}\n")
    result = retention_flow(trigger="schedule")
    assert (result.retention.days_deleted, result.retention.files_deleted) == (2, 2)
    assert not old.exists() and new.is_dir()
    assert "deleted 2 day folder(s)" in result.summary()
    [entry] = [e for e in iter_entries() if e.name == "retention"]
    assert (entry.kind, entry.status, entry.trigger) == ("flow", "succeeded", "schedule")
    assert entry.phase == "maintenance" and entry.total_usd > 0
    assert entry.links.get("prefect_flow_run_id")
