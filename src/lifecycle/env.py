"""Offline, quiet defaults for the tools' telemetry, set before they are imported."""

from __future__ import annotations

import os

OFFLINE_DEFAULTS: dict[str, str] = {
    "DO_NOT_TRACK": "true",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DVC_NO_ANALYTICS": "1",
    "TQDM_DISABLE": "1",
    "GIT_PYTHON_REFRESH": "quiet",
}


def apply_offline_defaults() -> None:
    """Turn telemetry off unless the user chose otherwise (called by the CLI, not at import)."""
    for key, value in OFFLINE_DEFAULTS.items():
        os.environ.setdefault(key, value)
