"""Prometheus metrics of one app: requests, latency, the score distribution, the model.

Each app gets its own registry (the factory can run many times in one process). With several
uvicorn workers each worker exposes its own figures: scrape them per worker (or run one
worker per container, the Kubernetes way). The score histogram is kept with numpy so that a
10,000-row request costs one vectorised count, not 10,000 observe() calls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from prometheus_client import CollectorRegistry

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SCORE_BUCKETS = tuple(round(0.05 * i, 2) for i in range(1, 20))
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ScoreHistogram:
    """A histogram of prediction scores, fed a whole array at a time."""

    def __init__(self, name: str, doc: str) -> None:
        """Empty counts for the fixed score buckets."""
        import numpy as np

        self.name, self.doc = name, doc
        self._edges = np.asarray(SCORE_BUCKETS)
        self._counts = np.zeros(len(SCORE_BUCKETS) + 1, dtype=np.int64)
        self._sum = 0.0
        self._lock = threading.Lock()

    def observe_many(self, scores: npt.NDArray[np.float64]) -> None:
        """Count every score into its bucket in one call."""
        import numpy as np

        idx = np.searchsorted(self._edges, scores, side="left")
        counts = np.bincount(idx, minlength=len(self._counts))
        with self._lock:
            self._counts += counts
            self._sum += float(scores.sum())

    def collect(self) -> Iterator[Any]:
        """The cumulative buckets Prometheus expects."""
        from prometheus_client.core import HistogramMetricFamily

        with self._lock:
            counts, total = self._counts.cumsum().tolist(), self._sum
        buckets = [(str(e), c) for e, c in zip(SCORE_BUCKETS, counts, strict=False)]
        buckets.append(("+Inf", counts[-1]))
        yield HistogramMetricFamily(self.name, self.doc, buckets=buckets, sum_value=total)


class DriftGauge:
    """The worst drift score of the newest monitor report, read when Prometheus scrapes."""

    name = "lifecycle_drift_worst_score"

    def __init__(self, source: Callable[[], float | None]) -> None:
        """`source` reads the score (None while no report exists: the gauge is then absent)."""
        self.source = source

    def collect(self) -> Iterator[Any]:
        """One sample, or none before the first drift report."""
        from prometheus_client.core import GaugeMetricFamily

        value = self.source()
        if value is not None:
            doc = "Worst drift score (features and scores) of the newest reports/drift report"
            yield GaugeMetricFamily(self.name, doc, value=value)


class ServiceMetrics:
    """Every metric the service exposes on GET /metrics."""

    def __init__(self, drift_source: Callable[[], float | None] | None = None) -> None:
        """A fresh registry per app; `drift_source` feeds the drift gauge at scrape time."""
        self.in_flight = 0  # HTTP requests being answered (the event loop's thread writes it)
        self.idle = threading.Event()  # set while no request is in flight (the shadow waits on it)
        self.idle.set()
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Gauge,
            Histogram,
            disable_created_metrics,
        )

        disable_created_metrics()  # type: ignore[no-untyped-call]

        self.registry: CollectorRegistry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "lifecycle_http_requests", "HTTP requests answered", ["route", "method", "status"],
            registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "lifecycle_http_request_seconds", "Time to answer, by route", ["route"],
            buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.predictions = Counter(
            "lifecycle_predictions", "Records scored, by model version", ["model_version"],
            registry=r,
        )  # fmt: skip
        self.model_info = Gauge(
            "lifecycle_model_info", "The model version serving (1) ", ["name", "version", "alias"],
            registry=r,
        )  # fmt: skip
        self.model_version = Gauge(
            "lifecycle_model_version", "The version number serving", registry=r
        )
        self.reloads = Counter(
            "lifecycle_model_reloads", "Model loads, by result", ["result"], registry=r
        )
        self.log_pending = Gauge(
            "lifecycle_prediction_log_pending_rows", "Predictions not yet on disk", registry=r
        )
        self.variant_predictions = Counter(
            "lifecycle_variant_predictions", "Records answered, by variant (champion or canary)",
            ["variant"], registry=r,
        )  # fmt: skip
        self.variant_calls = Counter(
            "lifecycle_variant_model_calls", "Model calls, by variant and result (ok or error)",
            ["variant", "result"], registry=r,
        )  # fmt: skip
        self.variant_seconds = Histogram(
            "lifecycle_variant_model_seconds", "Model time of a request, by variant",
            ["variant"], buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.canary_share = Gauge(
            "lifecycle_canary_share", "Share of customers the challenger answers", registry=r
        )
        self.canary_step_backs = Counter(
            "lifecycle_canary_step_backs", "Automatic canary step-backs to 0%", registry=r
        )
        self.shadow = Counter(
            "lifecycle_shadow_records", "Records offered to the shadow challenger, by result",
            ["result"], registry=r,
        )  # fmt: skip
        for variant in ("champion", "canary"):
            self.variant_predictions.labels(variant)
            for result in ("ok", "error"):
                self.variant_calls.labels(variant, result)
        self.scores = ScoreHistogram("lifecycle_prediction_score", "Churn probability served")
        r.register(self.scores)  # type: ignore[arg-type]
        if drift_source is not None:
            r.register(DriftGauge(drift_source))  # type: ignore[arg-type]

    def set_model(self, name: str, version: str, alias: str) -> None:
        """Show the serving version (and only it)."""
        self.model_info.clear()
        self.model_info.labels(name, version, alias).set(1)
        if version.isdigit():
            self.model_version.set(int(version))

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class MetricsMiddleware:
    """A plain ASGI middleware timing and counting every HTTP request by route."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, routes: frozenset[str]) -> None:
        """Only known routes become labels (unknown paths count as 'other')."""
        self.app, self.metrics, self.routes = app, metrics, routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request through, noting its status and time."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}
        self.metrics.in_flight += 1
        self.metrics.idle.clear()

        async def send_noting(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting)
        finally:
            self.metrics.in_flight -= 1
            if self.metrics.in_flight == 0:
                self.metrics.idle.set()
            path = scope.get("path", "")
            route = path if path in self.routes else "other"
            self.metrics.requests.labels(route, scope.get("method", ""), status["code"]).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
