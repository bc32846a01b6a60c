"""A local, read-only web page of the ledger: stdlib HTTP server, Plotly served from the package.

Open by default. When LIFECYCLE_VIEWER_TOKEN is set, every request needs the viewer token (or
the operator's, LIFECYCLE_ADMIN_TOKEN) as `Authorization: Bearer <token>` or as the password of
HTTP Basic auth (so a browser can log in): none is 401, another token is 403. Compared in
constant time, never logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
from datetime import UTC, datetime
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar

from lifecycle.ledger.forecast import forecast
from lifecycle.ledger.pricing import phases, str_keys
from lifecycle.ledger.session import get_engine
from lifecycle.ledger.tables import tables
from lifecycle.settings import get_settings

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
    prefect = get_settings().prefect_ui_url.rstrip("/")
    mlflow = get_settings().mlflow_ui_url.rstrip("/")
    return {
        "prefect": f"{prefect}/runs/flow-run/{prefect_id}" if prefect_id else None,
        "mlflow": f"{mlflow}/#/runs/{mlflow_id}" if mlflow_id else None,
    }


def dashboard_data(
    params: Params, url: str | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Everything the page draws, from one grouped scan so 100,000 entries stay fast."""
    from sqlalchemy import func, select

    _, t, _ = tables()
    fc = forecast(params, url, now)
    with get_engine(url).connect() as conn:
        groups = conn.execute(
            select(
                t.c.month,
                t.c.phase,
                t.c.name,
                t.c.kind,
                t.c.model_version,
                func.count(),
                func.sum(t.c.compute_usd),
                func.sum(t.c.staff_usd),
                func.sum(t.c.total_usd),
                func.sum(t.c.predictions),
            ).group_by(t.c.month, t.c.phase, t.c.name, t.c.kind, t.c.model_version)
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
    months = sorted({str(g[0]) for g in groups})
    totals = {"entries": 0, "compute_usd": 0.0, "staff_usd": 0.0, "total_usd": 0.0}
    phase_m: dict[str, dict[str, float]] = {}
    name_m: dict[str, dict[str, float]] = {}
    name_tot: dict[str, float] = {}
    compute_m: dict[str, float] = {}
    staff_m: dict[str, float] = {}
    active: dict[str, set[str]] = {}
    versions: dict[str, dict[str, float]] = {}
    predictions = 0
    serving_usd = 0.0
    for month, phase, name, kind, version, n, comp, staff, total, preds in groups:
        comp, staff, total = float(comp), float(staff), float(total)
        totals["entries"] += int(n)
        totals["compute_usd"] += comp
        totals["staff_usd"] += staff
        totals["total_usd"] += total
        pm = phase_m.setdefault(phase, {})
        pm[month] = pm.get(month, 0.0) + total
        nm = name_m.setdefault(name, {})
        nm[month] = nm.get(month, 0.0) + total
        name_tot[name] = name_tot.get(name, 0.0) + total
        compute_m[month] = compute_m.get(month, 0.0) + comp
        staff_m[month] = staff_m.get(month, 0.0) + staff
        active.setdefault(month, set()).add(phase)
        if version is not None:
            v = versions.setdefault(str(version), {"entries": 0, "total_usd": 0.0})
            v["entries"] += int(n)
            v["total_usd"] += total
        if kind == "serving":
            predictions += int(preds or 0)
            serving_usd += total
    top = sorted(name_tot, key=lambda k: -name_tot[k])[:TOP_FLOWS]
    flows: dict[str, list[float]] = {}
    for name, per_month in name_m.items():
        label = name if name in top else "other"
        series = flows.setdefault(label, [0.0] * len(months))
        for i, m in enumerate(months):
            series[i] += per_month.get(m, 0.0)
    budgets = str_keys(params.budget.monthly_usd)
    order = phases()
    forecast_budget = sum(budgets.get(p, 0.0) for p in fc.monthly_by_phase)
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "totals": totals,
        "months": months,
        "by_phase": {
            p: [phase_m[p].get(m, 0.0) for m in months]
            for p in sorted(phase_m, key=lambda x: order.index(x) if x in order else 99)
        },
        "by_flow": flows,
        "compute": [compute_m.get(m, 0.0) for m in months],
        "staff": [staff_m.get(m, 0.0) for m in months],
        "actual": [compute_m.get(m, 0.0) + staff_m.get(m, 0.0) for m in months],
        "budget": [sum(budgets.get(p, 0.0) for p in active.get(m, ())) for m in months],
        "forecast_months": fc.months,
        "forecast": [sum(fc.monthly_by_phase.values())] * len(fc.months),
        "forecast_budget": [forecast_budget] * len(fc.months),
        "alerts": fc.alerts,
        "model_versions": dict(sorted(versions.items())),
        "predictions": predictions,
        "usd_per_1k_predictions": serving_usd / predictions * 1000 if predictions else None,
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


def env_tokens() -> tuple[str, ...]:
    """The tokens the dashboard accepts: none (open) unless a viewer token is configured."""
    viewer = get_settings().viewer_token
    if not viewer:
        return ()
    return tuple(t for t in (viewer, get_settings().admin_token) if t)


def presented_token(header: str) -> str | None:
    """The token of a Bearer header, or the password of a Basic one (None when neither)."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


class _Handler(BaseHTTPRequestHandler):
    """GET only: the page, the charting library and the data; nothing writes."""

    params: ClassVar[Params]
    url: ClassVar[str | None]
    tokens: ClassVar[tuple[bytes, ...]] = ()

    def _authorized(self) -> bool:
        """True when open or a configured token came; else answers 401 or 403 itself."""
        if not self.tokens:
            return True
        given = presented_token(self.headers.get("Authorization", ""))
        if given is None:
            self.send_response(HTTPStatus.UNAUTHORIZED)
            self.send_header("WWW-Authenticate", 'Basic realm="ledger dashboard"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False
        found = False
        for token in self.tokens:
            found |= hmac.compare_digest(given.encode(), token)
        if not found:
            self._send(b"this token may not open the dashboard", "text/plain",
                       status=HTTPStatus.FORBIDDEN)  # fmt: skip
        return found

    def do_GET(self) -> None:
        """Serve one of three resources."""
        if not self._authorized():
            return
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
    params: Params,
    url: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8050,
    tokens: tuple[str, ...] | None = None,
) -> ThreadingHTTPServer:
    """A dashboard server bound to host:port (port 0 picks a free one); call serve_forever.

    tokens: the accepted bearer tokens (None: from the environment, see `env_tokens`).
    """
    get_engine(url)  # fail at start, not on the first request, if the ledger is unreachable
    accepted = tuple(t.encode() for t in (env_tokens() if tokens is None else tokens) if t)
    attrs = {"params": params, "url": url, "tokens": accepted}
    handler = type("LedgerDashboard", (_Handler,), attrs)
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
