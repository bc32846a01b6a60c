"""A checkout with two use cases and a shared ledger: cost, value, a drift report, a retrain."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from lifecycle.config import Params
from lifecycle.ledger.meter import MeteredRun, build_entry
from lifecycle.ledger.pricing import Usage
from lifecycle.ledger.queries import write_entry
from lifecycle.paths import DEFAULT_USE_CASE
from tests.support.project import repo_params_raw

OTHER = "churn-b"
OTHER_BUDGET = {"development": 1.0, "maintenance": 2.0}  # $3 a month, so its cost shows a share


def write_other_use_case(root: Path) -> None:
    """use_cases/churn-b/params.yaml: the repository's params, its own model and budget."""
    raw = repo_params_raw()
    raw["mlflow"]["model_name"] = OTHER
    raw["mlflow"]["experiment"] = OTHER
    raw["budget"]["monthly_usd"] = OTHER_BUDGET
    folder = root / "use_cases" / OTHER
    folder.mkdir(parents=True)
    (folder / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


def flow_run(
    params: Params, url: str, key: str, use_case: str, name: str, start: datetime, hours: float
) -> float:
    """One finished flow run charged to a use case; its total USD."""
    run = MeteredRun(key, "flow", name, "maintenance", "manual", params, use_case=use_case)
    wall = hours * 3600
    entry = build_entry(
        run, status="succeeded", started_at=start, ended_at=start + timedelta(hours=hours),
        usage=Usage(wall_seconds=wall, cpu_seconds=wall, peak_memory_bytes=2**30),
    )  # fmt: skip
    return write_entry(entry, url).total_usd


def record_value(url: str, model_name: str, now: datetime, usd: float) -> None:
    """A realized value entry of the model for this month."""
    from lifecycle.value.store import REALIZED, ValueEntry, record

    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    entry = ValueEntry(
        model_name=model_name, period=start.strftime("%Y-%m"), period_start=start, period_end=now,
        model_version="1", status=REALIZED, rows=100, labelled_rows=100, contacted=10,
        calibration="ok", value_usd=usd,
    )  # fmt: skip
    record(entry, url)


def write_drift(root: Path, use_case: str, verdict: str) -> None:
    """reports/drift/month_03.json of a use case, as `monitor` writes it."""
    folder = root / "use_cases" / use_case / "reports" / "drift"
    folder.mkdir(parents=True)
    doc = {"window": "month_03", "verdict": verdict, "created_at": "2026-11-30T10:00:00+00:00"}
    (folder / "month_03.json").write_text(json.dumps(doc))


def seed_portfolio(root: Path, params: Params, url: str, now: datetime) -> dict[str, float]:
    """Two use cases: runs this month and last, a retrain of churn-b, value of the default
    model, a drift report of churn-b. Returns each use case's cost this month."""
    write_other_use_case(root)
    last_month = now.replace(day=1) - timedelta(days=3)
    this = {DEFAULT_USE_CASE: 0.0, OTHER: 0.0}
    this[DEFAULT_USE_CASE] += flow_run(params, url, "a1", DEFAULT_USE_CASE, "train", now, 1.0)
    flow_run(params, url, "a0", DEFAULT_USE_CASE, "train", last_month, 5.0)
    this[OTHER] += flow_run(params, url, "b1", OTHER, "train", now, 2.0)
    this[OTHER] += flow_run(params, url, "b2", OTHER, "retrain", now, 0.5)
    record_value(url, params.mlflow.model_name, now, 1234.5)
    write_drift(root, OTHER, "drift")
    return this
