"""What the ledger dashboard draws: one grouped scan, filtered, plus the costliest runs.

The page (`static/dashboard.html`) and its routes (`lifecycle.serve.routers.ledger`) only draw
and serve what `dashboard_data` returns, so 100,000 entries stay one fast query.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from lifecycle.ledger.forecast import forecast, month_start
from lifecycle.ledger.models import utc_naive
from lifecycle.ledger.pricing import phases, str_keys
from lifecycle.ledger.session import get_engine
from lifecycle.ledger.tables import tables
from lifecycle.settings import get_settings

if TYPE_CHECKING:
    from lifecycle.config import Params

TOP_FLOWS = 8
TOP_RUNS = 20
MIN_USD = 0.005  # a run that rounds to $0.00 is not one of the costliest
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
PERIODS = {"all": None, "month": 1, "3m": 3, "6m": 6, "12m": 12}


@dataclass(frozen=True)
class Filters:
    """What the reader narrowed the page to (None: everything)."""

    period: str = "all"
    phase: str | None = None
    flow: str | None = None
    model_version: str | None = None
    use_case: str | None = None  # one use case's page (the portfolio links here)


@lru_cache(maxsize=1)
def plotly_js() -> bytes:
    """The charting library, from the installed plotly package (no CDN)."""
    return (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()


@lru_cache(maxsize=1)
def page_html() -> bytes:
    """The dashboard page shipped inside this package."""
    return _page("dashboard.html")


@lru_cache(maxsize=1)
def portfolio_html() -> bytes:
    """The portfolio page (the dashboard opens on it) shipped inside this package."""
    return _page("portfolio.html")


def _page(name: str) -> bytes:
    """A page of static/ with the pages' shared script written in (one request per page)."""
    static = resources.files("lifecycle.ledger") / "static"
    shared = (static / "pages.js").read_bytes()
    return (static / name).read_bytes().replace(b"/* pages.js */\n", shared, 1)


def run_links(prefect_id: str | None, mlflow_id: str | None) -> dict[str, str | None]:
    """Links to a run in the Prefect and MLflow UIs (base URLs from the environment)."""
    prefect = get_settings().prefect_ui_url.rstrip("/")
    mlflow = get_settings().mlflow_ui_url.rstrip("/")
    return {
        "prefect": f"{prefect}/runs/flow-run/{prefect_id}" if prefect_id else None,
        "mlflow": f"{mlflow}/#/runs/{mlflow_id}" if mlflow_id else None,
    }


def month_label(month: str) -> str:
    """'2026-11' as 'Nov 2026' (a reader's month, not a timestamp)."""
    return f"{MONTHS[int(month[5:7]) - 1]} {month[:4]}"


def first_month(period: str, now: datetime) -> str | None:
    """The first month a period covers, as YYYY-MM (None: all time)."""
    back = PERIODS[period]
    if back is None:
        return None
    year, month = now.year, now.month - (back - 1)
    while month < 1:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}"


def _groups(url: str | None, use_case: str | None = None) -> list[Any]:
    """Cost per month, phase, flow, kind and model version (a covering index serves it), of
    one use case or of all."""
    from sqlalchemy import func, select

    _, t, _ = tables()
    where = [t.c.use_case == use_case] if use_case else []
    with get_engine(url).connect() as conn:
        return list(
            conn.execute(
                select(
                    t.c.month, t.c.phase, t.c.name, t.c.kind, t.c.model_version, func.count(),
                    func.sum(t.c.compute_usd), func.sum(t.c.staff_usd), func.sum(t.c.total_usd),
                    func.sum(t.c.predictions),
                ).where(*where)
                .group_by(t.c.month, t.c.phase, t.c.name, t.c.kind, t.c.model_version)
            ).all()
        )  # fmt: skip


def _rollups(url: str | None) -> dict[str, tuple[int, float, float, float]]:
    """Per run that has sub-runs: (sub-runs, USD, CPU s, wall s) of its whole tree, itself
    included (rows hold their own part, so the tree's sum counts each second once)."""
    from sqlalchemy import select

    _, t, _ = tables()
    cols = (t.c.key, t.c.parent_key, t.c.total_usd, t.c.cpu_seconds, t.c.wall_seconds)
    with get_engine(url).connect() as conn:
        kids = conn.execute(select(*cols).where(t.c.parent_key.is_not(None))).all()
        parents = {str(k.parent_key) for k in kids}
        tops = conn.execute(select(*cols).where(t.c.key.in_(parents))).all() if parents else []
    own = {str(r.key): (float(r.total_usd), float(r.cpu_seconds), float(r.wall_seconds))
           for r in [*kids, *tops]}  # fmt: skip
    children: dict[str, list[str]] = {}
    for k in kids:
        children.setdefault(str(k.parent_key), []).append(str(k.key))

    def tree(key: str, depth: int = 0) -> tuple[int, float, float, float]:
        usd, cpu, wall = own.get(key, (0.0, 0.0, 0.0))
        n = 0
        for child in children.get(key, []) if depth < 20 else []:
            cn, cu, cc, cw = tree(child, depth + 1)
            n, usd, cpu, wall = n + 1 + cn, usd + cu, cpu + cc, wall + cw
        return n, usd, cpu, wall

    return {key: tree(key) for key in parents if key in own}


def _costliest(url: str | None, f: Filters, since: str | None) -> list[dict[str, Any]]:
    """The costliest runs the filters keep, with wall, CPU and links; no $0.00 rows. A run with
    sub-runs (the parent `lifecycle` flow) ranks and shows by its whole tree's cost."""
    from sqlalchemy import or_, select

    _, t, _ = tables()
    rollups = _rollups(url)
    whole = sorted(rollups, key=lambda k: -rollups[k][1])[:TOP_RUNS]
    query = select(
        t.c.key, t.c.kind, t.c.name, t.c.phase, t.c.status, t.c.started_at, t.c.wall_seconds,
        t.c.cpu_seconds, t.c.compute_usd, t.c.staff_usd, t.c.total_usd,
        t.c.prefect_flow_run_id, t.c.mlflow_run_id, t.c.model_version,
    ).where(or_(t.c.total_usd >= MIN_USD, t.c.key.in_(whole)))  # fmt: skip
    if since:
        query = query.where(t.c.month >= since)
    for column, value in ((t.c.phase, f.phase), (t.c.name, f.flow),
                          (t.c.model_version, f.model_version),
                          (t.c.use_case, f.use_case)):  # fmt: skip
        if value:
            query = query.where(column == value)
    with get_engine(url).connect() as conn:
        top = conn.execute(query.order_by(t.c.total_usd.desc()).limit(TOP_RUNS)).all()
        extra = conn.execute(query.where(t.c.key.in_(whole))).all() if whole else []
    seen: dict[str, Any] = {r.key: r for r in [*top, *extra]}

    def cost(r: Any) -> float:
        return rollups[r.key][1] if r.key in rollups else float(r.total_usd)

    rows = sorted(seen.values(), key=lambda r: -cost(r))[:TOP_RUNS]
    return [_run_row(r, rollups.get(r.key)) for r in rows if cost(r) >= MIN_USD]


def _run_row(r: Any, tree: tuple[int, float, float, float] | None) -> dict[str, Any]:
    """One costliest-runs row; `rollup` holds the whole tree of a run with sub-runs."""
    rollup = None
    if tree is not None:
        n, usd, cpu, wall = tree
        rollup = {"runs": n, "total_usd": usd, "cpu_seconds": cpu, "wall_seconds": wall}
    return {
        "key": r.key, "kind": r.kind, "name": r.name, "phase": r.phase, "status": r.status,
        "started_at": r.started_at.strftime("%d %b %Y %H:%M"),
        "wall_seconds": float(r.wall_seconds), "cpu_seconds": float(r.cpu_seconds),
        "compute_usd": float(r.compute_usd), "staff_usd": float(r.staff_usd),
        "total_usd": float(r.total_usd), "model_version": r.model_version,
        "links": run_links(r.prefect_flow_run_id, r.mlflow_run_id), "rollup": rollup,
    }  # fmt: skip


def _add(table: dict[str, dict[str, float]], row: str, col: str, usd: float) -> None:
    """Accumulate one cell of a two-way table."""
    cells = table.setdefault(row, {})
    cells[col] = cells.get(col, 0.0) + usd


def _budget_view(
    params: Params, groups: list[Any], now: datetime, months: list[str]
) -> dict[str, Any]:
    """Per phase: actual per month beside that phase's own budget; this month as a share."""
    budgets = str_keys(params.budget.monthly_usd)
    actual: dict[str, dict[str, float]] = {}
    for month, phase, *_, total, _p in groups:
        _add(actual, str(phase), str(month), float(total))
    this = f"{now.year:04d}-{now.month:02d}"
    order = [p for p in phases() if p in actual]  # a phase that never spent is no news
    spent = {p: actual.get(p, {}).get(this, 0.0) for p in order}
    return {
        "this_month": month_label(this),
        "phases": order,
        "budget": {p: budgets.get(p) for p in order},
        "actual": {p: [actual.get(p, {}).get(m, 0.0) for m in months] for p in order},
        "spent": spent,
        "spent_total": sum(spent.values()),
        "budget_total": sum(budgets.get(p, 0.0) for p in order if spent[p] > 0),
    }


def dashboard_data(
    params: Params,
    url: str | None = None,
    now: datetime | None = None,
    filters: Filters | None = None,
    whole: Params | None = None,
) -> dict[str, Any]:
    """Everything the page draws, from one grouped scan so 100,000 entries stay fast.

    A use case's page passes its own params (its budget) and the root's as `whole`: the
    forecast and its alerts are the whole ledger's, judged against the whole budget.
    """
    f = filters or Filters()
    moment = utc_naive(now or datetime.now(UTC))
    since = first_month(f.period, moment)
    groups = _groups(url, f.use_case)
    all_months = sorted({str(g[0]) for g in groups})
    keep = [
        g for g in groups
        if (since is None or str(g[0]) >= since) and (f.phase is None or g[1] == f.phase)
        and (f.flow is None or g[2] == f.flow)
        and (f.model_version is None or str(g[4]) == f.model_version)
    ]  # fmt: skip
    months = sorted({str(g[0]) for g in keep})
    totals = {"entries": 0, "compute_usd": 0.0, "staff_usd": 0.0, "total_usd": 0.0}
    by_phase: dict[str, dict[str, float]] = {}
    flow_split: dict[str, dict[str, float]] = {}
    versions: dict[str, dict[str, float]] = {}
    predictions, serving_usd = 0, 0.0
    for month, phase, name, kind, version, n, comp, staff, total, preds in keep:
        comp, staff, total = float(comp), float(staff), float(total)
        totals["entries"] += int(n)
        totals["compute_usd"] += comp
        totals["staff_usd"] += staff
        totals["total_usd"] += total
        _add(by_phase, phase, month, total)
        _add(flow_split, name, "compute", comp)
        _add(flow_split, name, "staffing", staff)
        if version is not None:
            _add(versions, str(version), phase, total)
        if kind == "serving":
            predictions += int(preds or 0)
            serving_usd += total
    ranked = sorted(flow_split, key=lambda k: -sum(flow_split[k].values()))
    flows = {k: flow_split[k] for k in ranked[:TOP_FLOWS]}
    for k in ranked[TOP_FLOWS:]:
        for part, usd in flow_split[k].items():
            _add(flows, "other", part, usd)
    order = phases()
    fc = forecast(whole or params, url, moment)  # the whole ledger against the whole budget
    return {
        "generated_at": datetime.now(UTC).strftime("%d %b %Y %H:%M UTC"),
        "filters": asdict(f),
        "options": {
            "periods": list(PERIODS),
            "phases": [p for p in order if any(g[1] == p for g in groups)],
            "flows": sorted({str(g[2]) for g in groups}),
            "model_versions": sorted({str(g[4]) for g in groups if g[4] is not None}, key=_vkey),
        },
        "totals": totals,
        "months": months,
        "month_labels": [month_label(m) for m in months],
        "by_phase": {
            p: [by_phase[p].get(m, 0.0) for m in months]
            for p in sorted(by_phase, key=lambda x: order.index(x) if x in order else 99)
        },
        "actual": [sum(by_phase[p].get(m, 0.0) for p in by_phase) for m in months],
        "by_flow": flows,
        "model_versions": {v: versions[v] for v in sorted(versions, key=_vkey)},
        "predictions": predictions,
        "usd_per_1k_predictions": serving_usd / predictions * 1000 if predictions else None,
        "budget": _budget_view(params, groups, moment, all_months)
        | {"month_labels": [month_label(m) for m in all_months]},
        "forecast": {
            "basis": fc.basis,
            "refused": fc.refused,
            "month_labels": [month_label(m.month) for m in fc.monthly],
            "low": [m.low_usd for m in fc.monthly],
            "expected": [m.expected_usd for m in fc.monthly],
            "high": [m.high_usd for m in fc.monthly],
            "twelve_month_usd": fc.twelve_month_usd,
            "twelve_month_low_usd": fc.twelve_month_low_usd,
            "twelve_month_high_usd": fc.twelve_month_high_usd,
        },
        "alerts": fc.alerts,
        "costliest": _costliest(url, f, since),
        "this_month_start": month_start(moment).isoformat(),
    }


def _vkey(version: str) -> tuple[int, str]:
    """Model versions in numeric order (v2 before v10)."""
    return (int(version), "") if version.isdigit() else (10**9, version)
