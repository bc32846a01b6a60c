"""The events flows emit and deployments react to (names only: no prefect import)."""

from __future__ import annotations

DRIFT_EVENT = "lifecycle.drift.detected"
RETRAIN_LABEL = "lifecycle.retrain"


def model_resource(model_name: str) -> str:
    """The resource id events about a registered model carry."""
    return f"lifecycle.model.{model_name}"
