"""The portfolio: every use case of one checkout side by side, cost against budget, value, health.

One row per use case (the root's params as "default", then each use_cases/<name>/): this month's
cost from the shared ledger against that use case's own budget, what its model earned this month
from the value ledger, and its health (the newest drift verdict, the last retrain, the champion's
age). The ledger dashboard opens on it and links each row to that use case's cost page.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lifecycle.config import Params, load_params
from lifecycle.ledger.models import utc_naive
from lifecycle.ledger.session import get_engine
from lifecycle.ledger.tables import tables
from lifecycle.paths import DEFAULT_USE_CASE, USE_CASES_DIR, Paths
from lifecycle.settings import get_settings
from lifecycle.value.store import entries as value_entries

log = logging.getLogger(__name__)

RETRAIN_FLOW = "retrain"  # the flow (and DVC-free stage) whose last run the health column shows
COST_PAGE = "/ledger/costs"  # today's dashboard; ?use_case=<name> narrows it to one use case


@dataclass(frozen=True)
class Health:
    """How a use case's model is doing, from the files and stores it already writes."""

    drift_verdict: str | None = None
    drift_window: str | None = None
    drift_at: str | None = None
    last_retrain: str | None = None
    last_retrain_status: str | None = None
    champion_version: str | None = None
    champion_days: float | None = None


@dataclass(frozen=True)
class UseCaseRow:
    """One use case in the portfolio: cost, budget, value, health and its page."""

    name: str
    model_name: str | None
    month_usd: float
    budget_usd: float | None
    total_usd: float
    entries: int
    value_usd: float | None
    value_status: str | None
    health: Health
    link: str
    problem: str | None = None  # why part of the row could not be read (e.g. bad params)

    @property
    def budget_share(self) -> float | None:
        """This month's cost as a share of the monthly budget (None: no budget)."""
        return self.month_usd / self.budget_usd if self.budget_usd else None


def use_case_names(root: Path, in_ledger: set[str] | None = None) -> list[str]:
    """The default use case, then every use_cases/<name>/ with a params file, then any other
    name the ledger holds (a use case whose folder was removed still cost money)."""
    found = [DEFAULT_USE_CASE]
    folder = root / USE_CASES_DIR
    if folder.is_dir():
        found += sorted(p.parent.name for p in folder.glob("*/params.yaml"))
    extra = sorted((in_ledger or set()) - set(found))
    return found + extra


def params_of(root: Path, name: str, default: Params) -> Params:
    """A use case's params (the default use case's are the ones the caller was given)."""
    if name == DEFAULT_USE_CASE:
        return default
    return load_params(root / USE_CASES_DIR / name / "params.yaml")


def page_params(root: Path, name: str, default: Params) -> Params:
    """The params a use case's cost page is priced and budgeted with: its own, else (its folder
    is gone, only its ledger rows are left) the caller's."""
    if not (root / USE_CASES_DIR / name / "params.yaml").is_file():
        return default
    return params_of(root, name, default)


def costs_by_use_case(url: str | None, month: str) -> dict[str, tuple[int, float, float]]:
    """Per use case: entries, all-time USD and this month's USD (one grouped scan)."""
    from sqlalchemy import case, func, select

    _, t, _ = tables()
    this_month = func.sum(case((t.c.month == month, t.c.total_usd), else_=0.0))
    stmt = select(t.c.use_case, func.count(), func.sum(t.c.total_usd), this_month).group_by(
        t.c.use_case
    )
    with get_engine(url).connect() as conn:
        return {
            str(u): (int(n), float(total or 0.0), float(now or 0.0))
            for u, n, total, now in conn.execute(stmt)
        }


def last_runs(url: str | None, flow: str) -> dict[str, tuple[datetime, str]]:
    """Per use case: when the flow last started and how it ended."""
    from sqlalchemy import func, select

    _, t, _ = tables()
    newest = (
        select(t.c.use_case, func.max(t.c.started_at).label("at"))
        .where(t.c.name == flow, t.c.kind == "flow")
        .group_by(t.c.use_case)
        .subquery()
    )
    stmt = select(t.c.use_case, t.c.started_at, t.c.status).join(
        newest, (t.c.use_case == newest.c.use_case) & (t.c.started_at == newest.c.at)
    )
    stmt = stmt.where(t.c.name == flow, t.c.kind == "flow")
    with get_engine(url).connect() as conn:
        return {str(u): (at, str(status)) for u, at, status in conn.execute(stmt)}


def month_value(url: str | None, model_name: str, month: str) -> tuple[float | None, str | None]:
    """What the model earned this month: realized where known, else estimated (None: no entry)."""
    rows = [v for v in value_entries(url, model_name=model_name) if v.month == month]
    known = [v for v in rows if v.best_usd is not None]
    if not known:
        return None, None
    statuses = {v.status for v in known}
    status = statuses.pop() if len(statuses) == 1 else "mixed"
    return sum(float(v.best_usd or 0.0) for v in known), status


def newest_drift(reports: Path) -> tuple[str | None, str | None, str | None]:
    """The newest drift report's verdict, window and time (None when none is readable)."""
    folder = reports / "drift"
    if not folder.is_dir():
        return None, None, None
    for path in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and doc.get("verdict"):
            at = doc.get("created_at") or datetime.fromtimestamp(path.stat().st_mtime, UTC)
            when = at.isoformat(timespec="seconds") if isinstance(at, datetime) else str(at)
            return str(doc["verdict"]), str(doc.get("window") or path.stem), when
    return None, None, None


def champion_age(paths: Paths, model_name: str, now: datetime) -> tuple[str | None, float | None]:
    """The champion's version and its age in days (since it was registered); None without a
    registry (no MLflow store yet: reading one must not create it) or without a champion."""
    if get_settings().mlflow_tracking_uri is None and not paths.mlflow_db.is_file():
        return None, None
    from mlflow.exceptions import MlflowException

    from lifecycle.registry import CHAMPION, version_by_alias

    try:
        found = version_by_alias(paths, model_name, CHAMPION)
    except MlflowException as err:
        log.warning("portfolio: champion of %s unreadable: %s", model_name, err)
        return None, None
    if found is None:
        return None, None
    born = datetime.fromtimestamp(int(found.creation_timestamp) / 1000, UTC)
    return str(found.version), max((now - born).total_seconds(), 0.0) / 86400


def portfolio_rows(
    root: Path, default: Params, url: str | None = None, now: datetime | None = None
) -> list[UseCaseRow]:
    """One row per use case, default first; a use case whose params cannot be read keeps its
    cost and says why the rest is missing."""
    moment = now or datetime.now(UTC)
    month = utc_naive(moment).strftime("%Y-%m")
    costs = costs_by_use_case(url, month)
    retrains = last_runs(url, RETRAIN_FLOW)
    rows = []
    for name in use_case_names(root, set(costs)):
        n, total, this = costs.get(name, (0, 0.0, 0.0))
        retrain = retrains.get(name)
        paths = Paths(root, None if name == DEFAULT_USE_CASE else name)
        verdict, window, drift_at = newest_drift(paths.reports)
        health = Health(
            drift_verdict=verdict,
            drift_window=window,
            drift_at=drift_at,
            last_retrain=retrain[0].isoformat(timespec="seconds") if retrain else None,
            last_retrain_status=retrain[1] if retrain else None,
        )
        link = f"{COST_PAGE}?use_case={quote(name)}"
        try:
            params = params_of(root, name, default)
        except (OSError, ValueError) as err:
            problem = f"params unreadable: {err}".splitlines()[0]
            rows.append(UseCaseRow(name, None, this, None, total, n, None, None, health, link,
                                   problem))  # fmt: skip
            continue
        model = params.mlflow.model_name
        budget = sum(params.budget.monthly_usd.values()) or None
        value, status = month_value(url, model, month)
        version, days = champion_age(paths, model, moment)
        health = Health(**{**asdict(health), "champion_version": version, "champion_days": days})
        rows.append(UseCaseRow(name, model, this, budget, total, n, value, status, health, link))
    return rows


def portfolio_data(
    root: Path, default: Params, url: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """What the portfolio page draws: the rows and the portfolio's totals."""
    moment = now or datetime.now(UTC)
    rows = portfolio_rows(root, default, url, moment)
    values = [r.value_usd for r in rows if r.value_usd is not None]
    return {
        "generated_at": datetime.now(UTC).strftime("%d %b %Y %H:%M UTC"),
        "month": utc_naive(moment).strftime("%Y-%m"),
        "currency": default.prices.currency,
        "use_cases": [asdict(r) | {"budget_share": r.budget_share} for r in rows],
        "totals": {
            "use_cases": len(rows),
            "month_usd": sum(r.month_usd for r in rows),
            "budget_usd": sum(r.budget_usd or 0.0 for r in rows),
            "total_usd": sum(r.total_usd for r in rows),
            "value_usd": sum(values) if values else None,
        },
    }
