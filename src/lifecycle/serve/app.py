"""The FastAPI app serving `models:/<name>@champion`: predict, feedback, health, admin.

`create_app(settings)` builds everything; nothing happens at import. At start-up the model
loads in the background (so /health answers at once and /ready says 503 until it is loaded),
or, under `lifecycle serve` (`load_first`), before the worker takes its first request. Each
worker follows the alias-moved signal (`lifecycle.alias_signal`, written by promote, approve
and rollback) within `serving.alias_watch_seconds`, and polls the alias every
`serving.poll_seconds` as the fallback (see `model_holder`). POST /admin/reload makes the
worker that receives it re-resolve at once. Every answer is in the prediction log before it
leaves, and the serving period's ledger row is opened at start and updated every
`serving.ledger_update_seconds` (docs/serving-durability.md).

Bodies are read with a size cap (413) and validated by the schema generated from params
(422 naming the field and the rule), so bad input never reaches the model.

The challenger (`serving.challenger_alias`) can meet live traffic two ways: shadow scoring
(`lifecycle.serve.shadow`: scored in the background, logged beside the champion's score,
never returned) and a canary share (`lifecycle.serve.canary`: customers answered by it,
sticky by customer id, stepped back to 0% when it fails). Roles: see `lifecycle.serve.auth`.
The routes live in `lifecycle.serve.routers`, one module per concern; what they share is the
`ServiceState` (`lifecycle.serve.state`), reached through `lifecycle.serve.deps`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.routing import APIRoute

from lifecycle.env import apply_offline_defaults
from lifecycle.serve.metrics import MetricsMiddleware
from lifecycle.serve.openapi import add_bodies
from lifecycle.serve.routers import (
    admin,
    docs,
    explain,
    feedback,
    ledger,
    ops,
    predict,
    release,
    use_cases,
    value,
)
from lifecycle.serve.state import ServeSettings, ServiceState
from lifecycle.settings import get_settings


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the log, the shadow, the batcher, the model follower and the meter; stop them."""
    service: ServiceState = app.state.service
    service.lifespans += 1
    if service.lifespans > 1:  # a nested start (a test transport): the first one owns it
        try:
            yield
        finally:
            service.lifespans -= 1
        return
    service.start_parts()
    if service.settings.load_first:  # under `lifecycle serve`: no request before the model
        await service.load_first()
    jobs = (service.follow(), service.meter(), service.watch_aliases())
    tasks = [asyncio.create_task(job) for job in jobs]
    try:
        yield
    finally:
        service.lifespans -= 1
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for side in list(service.side.values()):  # use cases served beside this one
            await side.stop_parts()
        await service.stop_parts()
        await asyncio.to_thread(service.record_period)


def create_app(settings: ServeSettings) -> FastAPI:
    """The service: routes, metrics middleware, lifespan that loads, polls, flushes, meters."""
    service = ServiceState(settings)
    app = FastAPI(
        title=f"{settings.params.project.name} churn scoring",
        version="1",
        lifespan=lifespan,
        description="Serves models:/<name>@champion; see lifecycle.serve.",
        docs_url=None,  # FastAPI's pages load from CDNs; routers.docs serves them locally
        redoc_url=None,
    )
    app.state.service = service
    routers = [
        m.router
        for m in (ops, predict, feedback, release, admin, ledger, value, explain, use_cases)
    ]
    for router in routers:
        app.include_router(router)
    app.include_router(docs.router)
    add_bodies(app, service)
    routes = frozenset(r.path for x in routers for r in x.routes if isinstance(r, APIRoute))
    app.add_middleware(MetricsMiddleware, metrics=service.metrics, routes=routes)
    return app


def app_from_env() -> FastAPI:
    """The uvicorn factory (`--factory lifecycle.serve.app:app_from_env`): settings from env."""
    from lifecycle.serve.threads import one_model_thread

    apply_offline_defaults()
    one_model_thread()
    logging.basicConfig(level=get_settings().log_level.upper())
    return create_app(ServeSettings.from_env())
