"""The FastAPI app serving `models:/<name>@champion`: predict, feedback, health, admin.

`create_app(settings)` builds everything; nothing happens at import. At start-up the model
loads in the background (so /health answers at once and /ready says 503 until it is loaded),
then each worker polls the alias every `serving.poll_seconds` and swaps when it moves
(see `model_holder`). POST /admin/reload makes the worker that receives it re-resolve at
once; with several uvicorn workers the others converge on their next poll.

Bodies are read with a size cap (413) and validated by the schema generated from params
(422 naming the field and the rule), so bad input never reaches the model.

The challenger (`serving.challenger_alias`) can meet live traffic two ways: shadow scoring
(`lifecycle.serve.shadow`: scored in the background, logged beside the champion's score,
never returned) and a canary share (`lifecycle.serve.canary`: customers answered by it,
sticky by customer id, stepped back to 0% when it fails). Roles: see `lifecycle.serve.auth`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import resource
import threading
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from lifecycle.config import Params
from lifecycle.monitor.report import latest_worst_drift
from lifecycle.paths import Paths
from lifecycle.serve.auth import admin_guard, viewer_guard
from lifecycle.serve.batcher import MicroBatcher
from lifecycle.serve.canary import CANARY, CHAMPION, Canary, split
from lifecycle.serve.metrics import MetricsMiddleware, ServiceMetrics
from lifecycle.serve.model_holder import LoadedModel, ModelHolder
from lifecycle.serve.predlog import Entry, PredictionLog, append_feedback, predictions_dir
from lifecycle.serve.schema import RequestSchema, build_schema, error_details
from lifecycle.serve.shadow import ShadowedLines, ShadowScorer
from lifecycle.system import cpu_seconds

log = logging.getLogger("lifecycle.serve")
MAX_ERRORS = 50
REQUEST_ID = re.compile(r"^[\w.\-]{1,64}$")
ROUTES = frozenset(
    {"/predict", "/feedback", "/health", "/ready", "/model", "/metrics", "/shadow", "/canary"}
    | {"/admin/reload", "/admin/rollback", "/admin/canary"}
)


@dataclass(frozen=True)
class ServeSettings:
    """What one app needs: params, the project root, the role tokens (never shown)."""

    params: Params
    paths: Paths
    admin_token: str | None = field(default=None, repr=False)
    alias: str = "champion"
    record_ledger: bool = True
    viewer_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, params_file: str | None = None) -> ServeSettings:
        """Params from LIFECYCLE_PARAMS, root from LIFECYCLE_HOME, the two role tokens."""
        from lifecycle.config import load_params

        return cls(
            load_params(params_file),
            Paths.from_env(),
            os.environ.get("LIFECYCLE_ADMIN_TOKEN") or None,
            viewer_token=os.environ.get("LIFECYCLE_VIEWER_TOKEN") or None,
        )


class Prediction(BaseModel):
    """One record's answer."""

    record: int
    score: float
    label: str | int
    model_version: str
    variant: str = CHAMPION


class PredictResponse(BaseModel):
    """Every record's answer, the request id to send feedback with, the version.

    `model_version` is the version that answered every record, or the champion's when a
    canary answered some of them; each prediction names its own version and variant.
    """

    request_id: str
    model_version: str
    predictions: list[Prediction]


class CanaryShare(BaseModel):
    """An operator's new canary share (0 stops the canary)."""

    share: float = Field(ge=0, le=1)


@dataclass(frozen=True)
class Part:
    """The records of one request that one variant answered, with their scores."""

    variant: str
    model: LoadedModel
    index: list[int]
    scores: Any


class ServiceState:
    """The parts one app shares between its routes and its background tasks."""

    def __init__(self, settings: ServeSettings) -> None:
        """Build the parts; start nothing (the lifespan starts them)."""
        p = settings.params
        self.settings = settings
        self.schema: RequestSchema = build_schema(p)
        self.metrics = ServiceMetrics(drift_source=lambda: latest_worst_drift(settings.paths))
        self.holder = ModelHolder(p, settings.paths, settings.alias)
        self.holder.on_swap = self._swapped
        self.challenger = ModelHolder(p, settings.paths, p.serving.challenger_alias)
        self.canary = Canary(p.serving)
        self.metrics.canary_share.set(self.canary.share)
        self.live_calls = 0  # champion or canary model calls running (the shadow waits for 0)
        self.batcher = MicroBatcher(p.serving.batch_max_rows, p.serving.batch_wait_ms / 1000)
        self.log = PredictionLog(
            predictions_dir(settings.paths), p.serving.log_flush_seconds,
            p.serving.log_buffer_rows, self.metrics.idle,
        )  # fmt: skip
        self.threshold = p.serving.threshold or p.train.threshold
        labels = [x for x in p.validation.target_labels if str(x) != str(p.data.positive_label)]
        self.positive, self.negative = p.data.positive_label, labels[0]
        self.shadow = ShadowScorer(
            p.serving, self.log, self.labels, lambda: self.challenger.current,
            self._busy, self.metrics, self.metrics.idle,
        )  # fmt: skip
        self.shadow_lines = ShadowedLines(predictions_dir(settings.paths))  # for GET /shadow
        self.feedback_lock = threading.Lock()
        self.lifespans = 0
        self.started = datetime.now(UTC)
        self.period_start = self.started
        self.period_predictions = 0
        self.period_cpu = cpu_seconds()

    def _busy(self) -> bool:
        """The shadow waits while any request is being answered or any model call runs."""
        return self.live_calls > 0 or self.metrics.in_flight > 0

    def _swapped(self, old: LoadedModel | None, new: LoadedModel) -> None:
        """Metrics follow the swap."""
        self.metrics.reloads.labels("loaded").inc()
        self.metrics.set_model(new.name, new.version, new.alias)

    def not_ready(self) -> str:
        """Why no model answers yet."""
        return f"no model loaded yet: {self.holder.last_error or 'loading'}"

    def labels(self, scores: list[float]) -> list[Any]:
        """The predicted labels at the threshold, in the target's own labels."""
        return [self.positive if s >= self.threshold else self.negative for s in scores]

    @property
    def wants_challenger(self) -> bool:
        """Whether the challenger must be loaded (shadow on or a canary share above 0)."""
        return self.settings.params.serving.shadow or self.canary.share > 0

    async def score(self, champion: LoadedModel, rows: list[dict[str, Any]]) -> list[Part]:
        """Each variant's records and scores: the canary's customers, the champion the rest."""
        challenger = self.challenger.current if self.canary.share > 0 else None
        if challenger is None:
            return [await self._call(CHAMPION, champion, rows, list(range(len(rows))))]
        mine, theirs = split(rows, self.settings.params.data.id_column, self.canary.share)
        if not theirs:
            return [await self._call(CHAMPION, champion, rows, mine)]
        results = await asyncio.gather(
            self._call(CHAMPION, champion, rows, mine) if mine else _nothing(),
            self._canary(challenger, rows, theirs),
        )
        parts = [p for p in results if p is not None]
        if results[1] is None:  # the canary failed: the champion answers its customers too
            parts.append(await self._call(CHAMPION, champion, rows, theirs))
        return parts

    async def _call(
        self, variant: str, model: LoadedModel, rows: list[dict[str, Any]], index: list[int]
    ) -> Part:
        """One variant's model call on some of the records, timed and counted by variant."""
        subset = rows if len(index) == len(rows) else [rows[i] for i in index]
        self.live_calls += 1
        started = time.perf_counter()
        try:
            scores = await self.batcher.score(model, subset)
        except Exception:
            self.metrics.variant_calls.labels(variant, "error").inc()
            raise
        finally:
            self.live_calls -= 1
            self.metrics.variant_seconds.labels(variant).observe(time.perf_counter() - started)
        self.metrics.variant_calls.labels(variant, "ok").inc()
        return Part(variant, model, index, scores)

    async def _canary(
        self, model: LoadedModel, rows: list[dict[str, Any]], index: list[int]
    ) -> Part | None:
        """The challenger's answer for its customers, or None when it fails (judged either way)."""
        started = time.perf_counter()
        try:
            part = await self._call(CANARY, model, rows, index)
        except Exception as err:  # the customer still gets the champion's answer
            log.warning("canary v%s failed: %s: %s", model.version, type(err).__name__, err)
            self._judge(False, time.perf_counter() - started)
            return None
        self._judge(True, time.perf_counter() - started)
        return part

    def _judge(self, ok: bool, seconds: float) -> None:
        """Feed the step-back rule one canary call; count and show a step-back."""
        if self.canary.record(ok, seconds) is not None:
            self.metrics.canary_step_backs.inc()
        self.metrics.canary_share.set(self.canary.share)

    def answer(self, request_id: str, rows: list[dict[str, Any]], parts: list[Part]) -> Response:
        """Label, log and count each variant's scores; the JSON response in record order."""
        import numpy as np

        now = datetime.now(UTC)
        whole = len(parts) == 1
        predictions: list[Any] = [] if whole else [None] * len(rows)
        for part in parts:
            values: list[float] = part.scores.tolist()
            labels = self.labels(values)
            v, n = part.model.version, len(values)
            entry = Entry(
                request_id, now, v, rows if whole else [rows[i] for i in part.index],
                values, labels, "api", None if whole else part.index, part.variant,
            )  # fmt: skip
            if part.variant == CHAMPION and self.settings.params.serving.shadow:
                self.shadow.submit(entry)
            else:
                self.log.append(entry)
            self.metrics.predictions.labels(v).inc(n)
            self.metrics.variant_predictions.labels(part.variant).inc(n)
            self.metrics.scores.observe_many(np.asarray(part.scores, dtype=np.float64))
            answers = [
                {"record": i, "score": s, "label": lab, "model_version": v,
                 "variant": part.variant}
                for i, s, lab in zip(part.index, values, labels, strict=True)
            ]  # fmt: skip
            if whole:  # one part answers every record, already in order
                predictions = answers
            else:
                for i, one in zip(part.index, answers, strict=True):
                    predictions[i] = one
        self.period_predictions += len(rows)
        versions = {p.model.version for p in parts}
        champions = [p.model.version for p in parts if p.variant == CHAMPION]
        top = versions.pop() if len(versions) == 1 else champions[0]
        body = {"request_id": request_id, "model_version": top, "predictions": predictions}
        return Response(
            orjson.dumps(body),
            media_type="application/json",
            headers={"X-Request-ID": request_id, "X-Model-Version": top},
        )

    async def follow(self) -> None:
        """Load the first model, then re-resolve the alias every poll interval."""
        poll = self.settings.params.serving.poll_seconds
        frozen = None
        while True:
            try:
                await asyncio.to_thread(self.holder.refresh)
            except Exception as err:  # a registry or load failure keeps the old model serving
                self.holder.last_error = f"{type(err).__name__}: {err}"
                self.metrics.reloads.labels("failed").inc()
                log.warning("model refresh failed: %s", self.holder.last_error)
            if self.holder.current is not None and self.holder.current is not frozen:
                frozen = self.holder.current
                _freeze_heap()
            if self.wants_challenger:
                await self.refresh_challenger()
            if poll <= 0 and self.holder.current is not None:
                return
            await asyncio.sleep(poll if poll > 0 else 1.0)

    async def refresh_challenger(self) -> LoadedModel | None:
        """Follow the challenger alias (a failure keeps the old one and is logged)."""
        try:
            return await asyncio.to_thread(self.challenger.refresh)
        except Exception as err:
            self.challenger.last_error = f"{type(err).__name__}: {err}"
            log.warning("challenger refresh failed: %s", self.challenger.last_error)
            return self.challenger.current

    def challenger_info(self) -> dict[str, Any]:
        """Which challenger is loaded, under which alias, or why none is."""
        model = self.challenger.current
        return {
            "alias": self.challenger.alias,
            "version": model.version if model else None,
            "error": None if model else self.challenger.last_error,
        }

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
        end, cpu = datetime.now(UTC), cpu_seconds()
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


async def _nothing() -> None:
    """No part (gathered in place of a variant that has no records)."""
    return None


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


async def _state(request: Request) -> ServiceState:
    """The app's shared state (a dependency; async, so FastAPI does not send it to a thread)."""
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
        service.shadow.start()
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
            await asyncio.to_thread(service.shadow.stop)
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
    viewer = Depends(viewer_guard(settings.viewer_token, settings.admin_token))
    read_only: dict[int | str, dict[str, Any]] = {401: {}, 403: {}}

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

    @app.get("/model", dependencies=[viewer], responses={503: ERRORS[503], **read_only})
    async def model_info(state: State) -> dict[str, Any]:
        """The serving model's card: version, alias, training date, metrics, data version."""
        model = state.holder.current
        if model is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, state.not_ready())
        return {**model.card, "loaded_at": model.loaded_at, "threshold": state.threshold}

    @app.get("/metrics", response_class=Response, dependencies=[viewer], responses=read_only)
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
    async def predict(request: Request) -> Response:
        """Churn probability and label of one record or a list, and the version answering."""
        state = service  # not a dependency: resolving one costs ~5% of a one-record request
        raw = await read_body(request, limit)
        try:
            rows = state.schema.predict.parse(raw)
        except ValidationError as err:
            raise HTTPException(422, error_details(err)[:MAX_ERRORS]) from None
        model = state.holder.current
        if model is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, state.not_ready())
        parts = await state.score(model, rows)
        return state.answer(request_id_of(request), rows, parts)

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

    @app.get("/shadow", dependencies=[viewer], responses=read_only)
    async def shadow(state: State) -> dict[str, Any]:
        """Champion vs challenger on live requests: agreement, scores, profit once labelled."""
        from lifecycle.serve.shadow import compare_logged

        p, paths = state.settings.params, state.settings.paths
        found = await asyncio.to_thread(compare_logged, p, paths, state.shadow_lines)
        return {
            "live": state.shadow.stats(),
            "challenger": state.challenger_info(),
            "comparisons": [c.to_dict() for c in found],
        }

    @app.get("/canary", dependencies=[viewer], responses=read_only)
    async def canary(state: State) -> dict[str, Any]:
        """The canary share, its window's error rate and p95, and the last step-back's reason."""
        return {**state.canary.status(), "challenger": state.challenger_info()}

    @app.post("/admin/canary", dependencies=[guard], responses={401: {}, 403: {}, 409: {}})
    async def set_canary(body: CanaryShare, state: State) -> dict[str, Any]:
        """Set the share of customers the challenger answers (0 stops the canary)."""
        if body.share > 0 and state.challenger.current is None:
            await state.refresh_challenger()
            if state.challenger.current is None:
                why = state.challenger.last_error or "not loaded"
                raise HTTPException(status.HTTP_409_CONFLICT, f"no challenger to send to: {why}")
        state.canary.set_share(body.share, "operator")
        state.metrics.canary_share.set(state.canary.share)
        return {**state.canary.status(), "challenger": state.challenger_info()}

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


def _freeze_heap() -> None:
    """Move what start-up and the model load allocated out of the collector's sight.

    The imports (MLflow, pandas, scikit-learn) leave millions of long-lived objects; a full
    collection that walks them stalls the event loop for tens to hundreds of milliseconds,
    which is most of the service's p99. Frozen objects are still freed by reference counting.
    """
    import gc

    gc.collect()
    gc.freeze()
