"""/use-cases/<name>/predict: every use case's champion from one service (see serve.use_cases).

The routes without the prefix keep serving the app's own use case; this one answers for any
use case of the checkout, in the same body and answer shapes, each with its own schema.
(No `from __future__ import annotations`: FastAPI must see the parameter types.)
"""

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response, status
from fastapi import Path as PathParam
from pydantic import ValidationError

from lifecycle.serve.http import invalid, read_body, request_ids
from lifecycle.serve.models import PredictResponse
from lifecycle.serve.openapi import ERRORS
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
    try:
        state = cases.state(name)
    except UnknownUseCaseError as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from None
    except ValueError as err:  # its params do not validate: the service is fine, the case not
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{name}: {err}") from None
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
