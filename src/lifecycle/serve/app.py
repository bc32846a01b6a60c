"""The FastAPI app serving `models:/<name>@champion`: predict, feedback, health, admin.

`create_app(settings)` builds everything; nothing happens at import. At start-up the model
loads in the background (so /health answers at once and /ready says 503 until it is loaded),
then each worker polls the alias every `serving.poll_seconds` and swaps when it moves
(see `model_holder`). POST /admin/reload makes the worker that receives it re-resolve at
once; with several uvicorn workers the others converge on their next poll.

Bodies are read with a size cap (413) and validated by the schema generated from params
(422 naming the field and the rule), so bad input never reaches the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import resource
import threading
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from lifecycle.config import Params
from lifecycle.paths import Paths
from lifecycle.serve.auth import admin_guard
from lifecycle.serve.batcher import MicroBatcher
from lifecycle.serve.metrics import MetricsMiddleware, ServiceMetrics
from lifecycle.serve.model_holder import LoadedModel, ModelHolder
from lifecycle.serve.predlog import Entry, PredictionLog, append_feedback, predictions_dir
from lifecycle.serve.schema import RequestSchema, build_schema, error_details

log = logging.getLogger("lifecycle.serve")
MAX_ERRORS = 50
REQUEST_ID = re.compile(r"^[\w.\-]{1,64}$")
ROUTES = frozenset(
    {"/predict", "/feedback", "/health", "/ready", "/model", "/metrics"}
    | {"/admin/reload", "/admin/rollback"}
)


@dataclass(frozen=True)
class ServeSettings:
    """What one app needs: params, the project root, the admin token (never shown)."""

    params: Params
    paths: Paths
    admin_token: str | None = field(default=None, repr=False)
    alias: str = "champion"
    record_ledger: bool = True

    @classmethod
    def from_env(cls, params_file: str | None = None) -> ServeSettings:
        """Params from LIFECYCLE_PARAMS, root from LIFECYCLE_HOME, LIFECYCLE_ADMIN_TOKEN."""
        from lifecycle.config import load_params

        return cls(
            load_params(params_file),
            Paths.from_env(),
            os.environ.get("LIFECYCLE_ADMIN_TOKEN") or None,
        )


class Prediction(BaseModel):
    """One record's answer."""

    record: int
    score: float
    label: str | int
    model_version: str


class PredictResponse(BaseModel):
    """Every record's answer, the request id to send feedback with, the version."""

    request_id: str
    model_version: str
    predictions: list[Prediction]


class ServiceState:
    """The parts one app shares between its routes and its background tasks."""

    def __init__(self, settings: ServeSettings) -> None:
        """Build the parts; start nothing (the lifespan starts them)."""
        p = settings.params
        self.settings = settings
        self.schema: RequestSchema = build_schema(p)
        self.metrics = ServiceMetrics()
        self.holder = ModelHolder(p, settings.paths, settings.alias)
        self.holder.on_swap = self._swapped
        self.batcher = MicroBatcher(p.serving.batch_max_rows, p.serving.batch_wait_ms / 1000)
        self.log = PredictionLog(
            predictions_dir(settings.paths), p.serving.log_flush_seconds, p.serving.log_buffer_rows
        )
        self.threshold = p.serving.threshold or p.train.threshold
        labels = [x for x in p.validation.target_labels if str(x) != str(p.data.positive_label)]
        self.positive, self.negative = p.data.positive_label, labels[0]
        self.feedback_lock = threading.Lock()
        self.lifespans = 0
        self.started = datetime.now(UTC)
        self.period_start = self.started
        self.period_predictions = 0
        self.period_cpu = _cpu_seconds()

    def _swapped(self, old: LoadedModel | None, new: LoadedModel) -> None:
        """Metrics follow the swap."""
        self.metrics.reloads.labels("loaded").inc()
        self.metrics.set_model(new.name, new.version, new.alias)

    def not_ready(self) -> str:
        """Why no model answers yet."""
        return f"no model loaded yet: {self.holder.last_error or 'loading'}"

    def answer(
        self, request_id: str, model: LoadedModel, rows: list[dict[str, Any]], scores: Any
    ) -> Response:
        """Label, log and count the scores; the JSON response."""
        import numpy as np

        values: list[float] = scores.tolist()
        positive = (np.asarray(scores) >= self.threshold).tolist()
        labels = [self.positive if p else self.negative for p in positive]
        self.log.append(
            Entry(request_id, datetime.now(UTC), model.version, rows, values, labels, "api")
        )
        self.metrics.predictions.labels(model.version).inc(len(values))
        self.metrics.scores.observe_many(np.asarray(scores, dtype=np.float64))
        self.period_predictions += len(values)
        v = model.version
        body = {
            "request_id": request_id,
            "model_version": v,
            "predictions": [
                {"record": i, "score": s, "label": lab, "model_version": v}
                for i, (s, lab) in enumerate(zip(values, labels, strict=True))
            ],
        }
        return Response(
            json.dumps(body, allow_nan=False),
            media_type="application/json",
            headers={"X-Request-ID": request_id, "X-Model-Version": v},
        )

    async def follow(self) -> None:
        """Load the first model, then re-resolve the alias every poll interval."""
        poll = self.settings.params.serving.poll_seconds
        while True:
            try:
                await asyncio.to_thread(self.holder.refresh)
            except Exception as err:  # a registry or load failure keeps the old model serving
                self.holder.last_error = f"{type(err).__name__}: {err}"
                self.metrics.reloads.labels("failed").inc()
                log.warning("model refresh failed: %s", self.holder.last_error)
            if poll <= 0 and self.holder.current is not None:
                return
            await asyncio.sleep(poll if poll > 0 else 1.0)

    async def meter(self) -> None:
        """Write a ledger entry of uptime and predictions every ledger period."""
        period = self.settings.params.serving.ledger_period_seconds
        while True:
            await asyncio.sleep(period)
            await asyncio.to_thread(self.record_period)

    def record_period(self) -> None:
        """Record the period since the last entry in the ledger (errors are logged, not raised)."""
        from lifecycle.ledger.meter import record_serving_period

        if not self.settings.record_ledger:
            return
        end, cpu = datetime.now(UTC), _cpu_seconds()
        start, count = self.period_start, self.period_predictions
        model = self.holder.current
        try:
            record_serving_period(
                start, end, count,
                cpu_seconds=cpu - self.period_cpu,
                peak_memory_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                model_version=model.version if model else None,
                run_key=f"serving:api:{os.getpid()}:{start.isoformat()}",
                params=self.settings.params,
            )  # fmt: skip
        except Exception:  # the ledger must never take the service down
            log.exception("could not record the serving period in the ledger")
            return
        self.period_start, self.period_cpu = end, cpu
        self.period_predictions -= count


def _cpu_seconds() -> float:
    """CPU seconds this process has used."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes the limit."""
    declared = request.headers.get("content-length", "")
    too_big = f"request body is over the limit of {limit} bytes (serving.max_body_bytes)"
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, too_big)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, too_big)
        chunks.append(chunk)
    return b"".join(chunks)


def request_id_of(request: Request) -> str:
    """The caller's X-Request-ID when it is a safe token, else a new one."""
    given = request.headers.get("x-request-id", "")
    return given if REQUEST_ID.match(given) else uuid.uuid4().hex


def _state(request: Request) -> ServiceState:
    """The app's shared state (a dependency)."""
    state: ServiceState = request.app.state.service
    return state


State = Annotated[ServiceState, Depends(_state)]
ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"description": "Body over serving.max_body_bytes"},
    422: {"description": "Invalid input: the field and the rule broken"},
    503: {"description": "No model loaded yet"},
}


def _body_doc(schema: dict[str, Any], example: str | None = None) -> dict[str, Any]:
    """An OpenAPI requestBody for a route that reads its own body."""
    content: dict[str, Any] = {"application/json": {"schema": schema}}
    if example:
        content[example] = {"schema": {"type": "string"}}
    return {"requestBody": {"required": True, "content": content}}


def create_app(settings: ServeSettings) -> FastAPI:
    """The service: routes, metrics middleware, lifespan that loads, polls, flushes, meters."""
    service = ServiceState(settings)
    limit = settings.params.serving.max_body_bytes

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.lifespans += 1
        if service.lifespans > 1:  # a nested start (a test transport): the first one owns it
            try:
                yield
            finally:
                service.lifespans -= 1
            return
        service.log.start()
        service.batcher.start()
        tasks = [asyncio.create_task(service.follow()), asyncio.create_task(service.meter())]
        try:
            yield
        finally:
            service.lifespans -= 1
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await service.batcher.stop()
            service.log.close()
            await asyncio.to_thread(service.record_period)

    app = FastAPI(
        title=f"{settings.params.project.name} churn scoring",
        version="1",
        lifespan=lifespan,
        description="Serves models:/<name>@champion; see lifecycle.serve.",
    )
    app.state.service = service
    predict_schema, predict_defs = service.schema.predict.openapi()
    feedback_schema, feedback_defs = service.schema.feedback.openapi()
    guard = Depends(admin_guard(settings.admin_token))

    @app.get("/health")
    async def health() -> dict[str, str]:
        """The process is alive (says nothing about the model)."""
        return {"status": "alive"}

    @app.get("/ready", responses={503: ERRORS[503]})
    async def ready(state: State) -> JSONResponse:
        """A model is loaded and answering."""
        model = state.holder.current
        if model is None:
            return JSONResponse({"ready": False, "detail": state.not_ready()}, status_code=503)
        return JSONResponse({"ready": True, "model_version": model.version})

    @app.get("/model", responses={503: ERRORS[503]})
    async def model_info(state: State) -> dict[str, Any]:
        """The serving model's card: version, alias, training date, metrics, data version."""
        model = state.holder.current
        if model is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, state.not_ready())
        return {**model.card, "loaded_at": model.loaded_at, "threshold": state.threshold}

    @app.get("/metrics", response_class=Response)
    async def metrics(state: State) -> Response:
        """Prometheus exposition: requests, latency, scores, model version, log backlog."""
        state.metrics.log_pending.set(state.log.pending)
        body, kind = state.metrics.render()
        return Response(body, media_type=kind)

    @app.post(
        "/predict",
        response_model=PredictResponse,
        responses={k: ERRORS[k] for k in (413, 422, 503)},
        openapi_extra=_body_doc(predict_schema),
    )
    async def predict(request: Request, state: State) -> Response:
        """Churn probability and label of one record or a list, and the version answering."""
        raw = await read_body(request, limit)
        try:
            rows = state.schema.predict.parse(raw)
        except ValidationError as err:
            raise HTTPException(422, error_details(err)[:MAX_ERRORS]) from None
        model = state.holder.current
        if model is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, state.not_ready())
        scores = await state.batcher.score(model, rows)
        return state.answer(request_id_of(request), model, rows, scores)

    @app.post(
        "/feedback",
        responses={k: ERRORS[k] for k in (413, 422)},
        openapi_extra=_body_doc(feedback_schema, "application/x-ndjson"),
    )
    async def feedback(request: Request, state: State) -> dict[str, int]:
        """Real outcomes by request id (JSON, or a JSON-lines file), joined to the log later."""
        raw = await read_body(request, limit)
        kind = request.headers.get("content-type", "")
        if "ndjson" in kind or "jsonl" in kind:
            raw = b"[" + b",".join(ln for ln in raw.splitlines() if ln.strip()) + b"]"
        try:
            items = state.schema.feedback.parse(raw)
        except ValidationError as err:
            raise HTTPException(422, error_details(err)[:MAX_ERRORS]) from None
        paths = state.settings.paths
        written = await asyncio.to_thread(append_feedback, paths, items, state.feedback_lock)
        return {"accepted": written}

    @app.post("/admin/reload", dependencies=[guard], responses={401: {}, 403: {}})
    async def reload(state: State, force: bool = False) -> dict[str, Any]:
        """Re-resolve the alias now (force: reload even the same version)."""
        before = state.holder.current
        try:
            model = await asyncio.to_thread(state.holder.refresh, force)
        except Exception as err:  # the old model keeps serving; the caller learns why
            state.metrics.reloads.labels("failed").inc()
            raise HTTPException(502, f"reload failed, still serving the old model: {err}") from None
        if model is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, state.not_ready())
        return {"model_version": model.version, "changed": model is not before}

    @app.post("/admin/rollback", dependencies=[guard], responses={401: {}, 403: {}, 409: {}})
    async def rollback(state: State) -> dict[str, Any]:
        """Restore @previous as champion in the registry, then serve it."""
        from lifecycle.registry import RegistryError
        from lifecycle.registry import rollback as registry_rollback

        name = state.settings.params.mlflow.model_name
        try:
            move = await asyncio.to_thread(registry_rollback, state.settings.paths, name)
        except RegistryError as err:
            raise HTTPException(status.HTTP_409_CONFLICT, str(err)) from None
        model = await asyncio.to_thread(state.holder.refresh)
        serving = model.version if model else None
        return {"champion": move.champion, "demoted": move.previous, "model_version": serving}

    _add_components(app, {**predict_defs, **feedback_defs})
    app.add_middleware(MetricsMiddleware, metrics=service.metrics, routes=ROUTES)
    return app


def _add_components(app: FastAPI, defs: dict[str, Any]) -> None:
    """Put the generated record schemas into the OpenAPI components."""
    base = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = base()
            schema.setdefault("components", {}).setdefault("schemas", {}).update(defs)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def app_from_env() -> FastAPI:
    """The uvicorn factory (`--factory lifecycle.serve.app:app_from_env`): settings from env."""
    from lifecycle.env import apply_offline_defaults
    from lifecycle.serve.cli import one_model_thread

    apply_offline_defaults()
    one_model_thread()
    logging.basicConfig(level=os.environ.get("LIFECYCLE_LOG_LEVEL", "INFO").upper())
    return create_app(ServeSettings.from_env())
