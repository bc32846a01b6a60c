"""The response and body models the OpenAPI schema shows (records come from `serve.schema`)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from lifecycle.serve.canary import CHAMPION


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
    correlation_id: str | None = None  # the caller's X-Request-ID, when it sent a safe one


class CanaryShare(BaseModel):
    """An operator's new canary share (0 stops the canary)."""

    share: float = Field(ge=0, le=1)
