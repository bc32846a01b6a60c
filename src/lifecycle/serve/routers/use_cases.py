"""/use-cases/<name>/...: every use case's champion from one service (see serve.use_cases).

The routes without the prefix keep serving the app's own use case; these answer for any use
case of the checkout, in the same body and answer shapes, each with its own schema and stores:
predict, its model card, its outcomes (feedback, corrections: the outcomes role, as
/feedback), so monitoring and the value ledger of every use case get their outcomes, and its
challenger on live traffic (shadow and canary reports; the operator sets its canary share)
and its Prometheus series.
(No `from __future__ import annotations`: FastAPI must see the parameter types.)
"""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi import Path as PathParam
from pydantic import ValidationError

from lifecycle.serve.deps import ADMIN, READ_ONLY, VIEWER, Role
from lifecycle.serve.http import invalid, read_body, request_ids
from lifecycle.serve.models import CanaryShare, PredictResponse
from lifecycle.serve.openapi import ERRORS
from lifecycle.serve.routers.admin import apply_canary_share
from lifecycle.serve.routers.feedback import (
    CORRECTION_BODY,
    RequestId,
    correct_outcome,
    correction_history,
    record_outcomes,
)
from lifecycle.serve.routers.release import canary_report, shadow_report
from lifecycle.serve.state import ServiceState
from lifecycle.serve.use_cases import NAME_PATTERN, UnknownUseCaseError, UseCases

router = APIRouter(prefix="/use-cases", tags=["use cases"])

UseCaseName = Annotated[str, PathParam(pattern=NAME_PATTERN, description="a use case's name")]


def use_cases(request: Request) -> UseCases:
    """The app's use cases, made on the first request that needs them."""
    found: UseCases | None = getattr(request.app.state, "use_cases", None)
    if found is None:
        found = UseCases(request.app.state.service)
        request.app.state.use_cases = found
    return found


def case_state(cases: UseCases, name: str) -> ServiceState:
    """The use case's state: 404 when the checkout has no such use case, 503 when its params
    do not validate (the service is fine, that use case is not)."""
    try:
        return cases.state(name)
    except UnknownUseCaseError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from None
    except ValueError as err:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{name}: {err}") from None


@router.get("")
async def list_use_cases(request: Request) -> dict[str, Any]:
    """The checkout's use cases, and the model version each loaded one serves."""
    cases = use_cases(request)
    loaded = cases.loaded()
    return {
        "use_cases": [
            {
                "name": name,
                "predict": f"/use-cases/{name}/predict",
                "feedback": f"/use-cases/{name}/feedback",
                "model_version": (
                    m.version if name in loaded and (m := loaded[name].holder.current) else None
                ),
            }
            for name in cases.names()
        ]
    }


@router.post(
    "/{name}/predict",
    response_model=PredictResponse,
    responses={404: {"description": "No such use case"}, **{k: ERRORS[k] for k in (413, 422, 503)}},
)
async def predict(name: UseCaseName, request: Request) -> Response:
    """Probability and label of one record or a list from that use case's champion."""
    cases = use_cases(request)
    state = case_state(cases, name)
    raw = await read_body(request, state.settings.params.serving.max_body_bytes)
    try:
        rows = state.schema.predict.parse(raw)
    except ValidationError as err:
        raise invalid(err) from None
    model = await cases.model(name, state)
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{name}: {state.not_ready()}")
    parts = await state.score(model, rows)
    return await state.answer(*request_ids(request), rows, parts)


@router.get(
    "/{name}/model", dependencies=[VIEWER], responses={404: {}, 503: ERRORS[503], **READ_ONLY}
)
async def model_card(name: UseCaseName, request: Request) -> dict[str, Any]:
    """That use case's champion card (as /model), loading the champion on first use."""
    cases = use_cases(request)
    state = case_state(cases, name)
    model = await cases.model(name, state)
    if model is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{name}: {state.not_ready()}")
    return {**model.card, "loaded_at": model.loaded_at, "threshold": state.threshold}


@router.post(
    "/{name}/feedback",
    responses={401: {}, 403: {}, 404: {}, **{k: ERRORS[k] for k in (409, 413, 422)}},
)
async def feedback(name: UseCaseName, request: Request, role: Role) -> dict[str, int]:
    """Real outcomes of that use case's predictions (as /feedback), into its own store."""
    return await record_outcomes(request, case_state(use_cases(request), name), role)


@router.put(
    "/{name}/feedback/{request_id}",
    responses={401: {}, 403: {}, 404: {}, **{k: ERRORS[k] for k in (413, 422)}},
    openapi_extra=CORRECTION_BODY,
)
async def correct(
    name: UseCaseName, request_id: RequestId, request: Request, role: Role
) -> dict[str, Any]:
    """Correct one of that use case's outcomes, with a reason; audited."""
    return await correct_outcome(request_id, request, case_state(use_cases(request), name), role)


@router.get("/{name}/feedback/{request_id}/corrections", responses={401: {}, 403: {}, 404: {}})
async def corrections(
    name: UseCaseName, request_id: RequestId, request: Request, role: Role
) -> list[dict[str, Any]]:
    """The audit trail of one of that use case's outcomes, oldest first."""
    return await correction_history(request_id, case_state(use_cases(request), name))


@router.get("/{name}/shadow", dependencies=[VIEWER], responses={404: {}, **READ_ONLY})
async def shadow(name: UseCaseName, request: Request) -> dict[str, Any]:
    """That use case's champion vs its challenger on live requests (as /shadow)."""
    return await shadow_report(case_state(use_cases(request), name))


@router.get("/{name}/canary", dependencies=[VIEWER], responses={404: {}, **READ_ONLY})
async def canary(name: UseCaseName, request: Request) -> dict[str, Any]:
    """That use case's canary share and state (as /canary)."""
    return canary_report(case_state(use_cases(request), name))


@router.post(
    "/{name}/admin/canary",
    dependencies=[ADMIN],
    responses={404: {}, 409: {}, 422: {}, **READ_ONLY},
    openapi_extra={"requestBody": {"required": True, "content": {
        "application/json": {"schema": CanaryShare.model_json_schema()}}}},
)  # fmt: skip
async def set_canary(name: UseCaseName, request: Request) -> dict[str, Any]:
    """Set the share of that use case's customers its challenger answers (as /admin/canary)."""
    return await apply_canary_share(request, case_state(use_cases(request), name))


@router.get(
    "/{name}/metrics",
    response_class=Response,
    dependencies=[VIEWER],
    responses={404: {}, **READ_ONLY},
)
async def metrics(name: UseCaseName, request: Request) -> Response:
    """That use case's Prometheus series: its predictions, model, variants, shadow, canary and
    drift (HTTP request series are the app's, on /metrics)."""
    state = case_state(use_cases(request), name)
    state.metrics.log_pending.set(state.log.pending)
    body, kind = state.metrics.render()
    return Response(body, media_type=kind)
