"""A local, read-only web page of the ledger: stdlib HTTP server, Plotly served from the package."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict
from datetime import UTC, datetime
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar

from lifecycle.ledger.pricing import phases, str_keys
from lifecycle.ledger.store import get_engine, tables

if TYPE_CHECKING:
    from lifecycle.config import Params

log = logging.getLogger(__name__)
TOP_FLOWS = 8
TOP_RUNS = 20


@lru_cache(maxsize=1)
def plotly_js() -> bytes:
    """The charting library, from the installed plotly package (no CDN)."""
    return (resources.files("plotly") / "package_data" / "plotly.min.js").read_bytes()


@lru_cache(maxsize=1)
def page_html() -> bytes:
    """The dashboard page shipped inside this package."""
    return (resources.files("lifecycle.ledger") / "static" / "dashboard.html").read_bytes()


def run_links(prefect_id: str | None, mlflow_id: str | None) -> dict[str, str | None]:
    """Links to a run in the Prefect and MLflow UIs (base URLs from the environment)."""
    prefect = os.environ.get("PREFECT_UI_URL", "http://127.0.0.1:4200").rstrip("/")
    mlflow = os.environ.get("MLFLOW_UI_URL", "http://127.0.0.1:5000").rstrip("/")
    return {
        "prefect": f"{prefect}/runs/flow-run/{prefect_id}" if prefect_id else None,
        "mlflow": f"{mlflow}/#/runs/{mlflow_id}" if mlflow_id else None,
    }


def dashboard_data(
    params: Params, url: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Everything the page draws, aggregated in SQL so 100,000 entries stay fast."""
    from sqlalchemy import func, select

    from lifecycle.ledger.forecast import forecast
    from lifecycle.ledger.report import summarize

    _, t, _ = tables()
    summary = summarize(url=url)
    fc = forecast(params, url, now)
    with get_engine(url).connect() as conn:
        by_phase = conn.execute(
            select(t.c.month, t.c.phase, func.sum(t.c.total_usd))
            .group_by(t.c.month, t.c.phase)
            .order_by(t.c.month)
        ).all()
        split = conn.execute(
            select(t.c.month, func.sum(t.c.compute_usd), func.sum(t.c.staff_usd))
            .group_by(t.c.month)
            .order_by(t.c.month)
        ).all()
        by_name = conn.execute(
            select(t.c.month, t.c.name, func.sum(t.c.total_usd)).group_by(t.c.month, t.c.name)
        ).all()
        costliest = conn.execute(
            select(
                t.c.key,
                t.c.kind,
                t.c.name,
                t.c.phase,
                t.c.status,
                t.c.started_at,
                t.c.total_usd,
                t.c.prefect_flow_run_id,
                t.c.mlflow_run_id,
                t.c.model_version,
            )
            .order_by(t.c.total_usd.desc())
            .limit(TOP_RUNS)
        ).all()
    months = [str(r[0]) for r in split]
    top = list(summary.by_name)[:TOP_FLOWS]
    flows: dict[str, dict[str, float]] = {}
    for month, name, usd in by_name:
        label = name if name in top else "other"
        flows.setdefault(label, {}).setdefault(month, 0.0)
        flows[label][month] += float(usd)
    phase_series: dict[str, dict[str, float]] = {}
    active: dict[str, set[str]] = {}
    for month, phase, usd in by_phase:
        phase_series.setdefault(phase, {})[month] = float(usd)
        active.setdefault(month, set()).add(phase)
    budgets = str_keys(params.budget.monthly_usd)
    order = phases()
    forecast_budget = [budgets.get(p, 0.0) for p in fc.monthly_by_phase if p in budgets]
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "totals": asdict(summary.totals),
        "months": months,
        "by_phase": {
            p: [phase_series[p].get(m, 0.0) for m in months]
            for p in sorted(phase_series, key=lambda x: order.index(x) if x in order else 99)
        },
        "by_flow": {name: [flows[name].get(m, 0.0) for m in months] for name in flows},
        "compute": [float(c) for _, c, _ in split],
        "staff": [float(s) for _, _, s in split],
        "actual": [float(c) + float(s) for _, c, s in split],
        "budget": [sum(budgets.get(p, 0.0) for p in active.get(m, ())) for m in months],
        "forecast_months": fc.months,
        "forecast": [sum(fc.monthly_by_phase.values())] * len(fc.months),
        "forecast_budget": [sum(forecast_budget)] * len(fc.months),
        "alerts": fc.alerts,
        "model_versions": {k: asdict(v) for k, v in summary.by_model_version.items()},
        "predictions": summary.predictions,
        "usd_per_1k_predictions": summary.serving_usd_per_1k_predictions,
        "costliest": [
            {
                "key": r.key,
                "kind": r.kind,
                "name": r.name,
                "phase": r.phase,
                "status": r.status,
                "started_at": r.started_at.isoformat(timespec="seconds"),
                "total_usd": float(r.total_usd),
                "model_version": r.model_version,
                "links": run_links(r.prefect_flow_run_id, r.mlflow_run_id),
            }
            for r in costliest
        ],
    }


class _Handler(BaseHTTPRequestHandler):
    """GET only: the page, the charting library and the data; nothing writes."""

    params: ClassVar[Params]
    url: ClassVar[str | None]

    def do_GET(self) -> None:
        """Serve one of three resources."""
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            self._send(page_html(), "text/html; charset=utf-8")
        elif path == "/static/plotly.min.js":
            self._send(plotly_js(), "application/javascript", cache=True)
        elif path == "/api/data":
            try:
                body = json.dumps(dashboard_data(self.params, self.url)).encode()
            except Exception as err:  # report a broken ledger to the page, keep serving
                log.exception("dashboard data failed")
                self._send(
                    json.dumps({"error": str(err)}).encode(),
                    "application/json",
                    status=HTTPStatus.INTERNAL_SERVER_ERROR,
                )
                return
            self._send(body, "application/json")
        elif path == "/favicon.ico":
            self._send(b"", "image/x-icon", status=HTTPStatus.NO_CONTENT)
        else:
            self._send(b"not found", "text/plain", status=HTTPStatus.NOT_FOUND)

    def _send(
        self, body: bytes, ctype: str, *, status: HTTPStatus = HTTPStatus.OK, cache: bool = False
    ) -> None:
        """Write one response."""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
        self.end_headers()
        if body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Route access logs to logging instead of stderr."""
        log.debug(format, *args)


def make_server(
    params: Params, url: str | None = None, host: str = "127.0.0.1", port: int = 8050
) -> ThreadingHTTPServer:
    """A dashboard server bound to host:port (port 0 picks a free one); call serve_forever."""
    get_engine(url)  # fail at start, not on the first request, if the ledger is unreachable
    handler = type("LedgerDashboard", (_Handler,), {"params": params, "url": url})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
