"""The one reader of the environment: endpoints, secrets and run labels (never tunables).

Every variable the project reads is a field here, named as in `.env.example`. `get_settings()`
reads the environment when it changes, so a test's `monkeypatch.setenv`, or a command that
exports `LIFECYCLE_PARAMS` for the processes it starts, is seen by the next call.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PARAMS_FILE = "params.yaml"


class SettingsError(ValueError):
    """An environment variable that cannot be used, named with its value and the rule."""


def _env(name: str) -> AliasChoices:
    """A field read from exactly this environment variable."""
    return AliasChoices(name)


class Settings(BaseSettings):
    """The environment as the project reads it: frozen, empty values count as unset."""

    # only the names below are read: no field-name fallback (a variable `port` must not count)
    model_config = SettingsConfigDict(
        frozen=True, case_sensitive=True, env_ignore_empty=True, extra="ignore"
    )

    # where the project lives and which params file (and overlay) it reads
    home: Path = Field(default=Path("."), validation_alias=_env("LIFECYCLE_HOME"))
    params: Path | None = Field(default=None, validation_alias=_env("LIFECYCLE_PARAMS"))
    env: str | None = Field(default=None, validation_alias=_env("LIFECYCLE_ENV"))
    # stores: MLflow tracking/registry and the cost ledger (embedded SQLite files when unset)
    mlflow_tracking_uri: str | None = Field(
        default=None, validation_alias=_env("MLFLOW_TRACKING_URI")
    )
    ledger_url: str | None = Field(default=None, validation_alias=_env("LIFECYCLE_LEDGER_URL"))
    # what a ledger entry is charged to and why it ran
    phase: str | None = Field(default=None, validation_alias=_env("LIFECYCLE_PHASE"))
    trigger: str | None = Field(default=None, validation_alias=_env("LIFECYCLE_TRIGGER"))
    ci: bool = Field(default=False, validation_alias=_env("CI"))
    # Prefect and Dask
    prefect_api_url: str | None = Field(default=None, validation_alias=_env("PREFECT_API_URL"))
    prefect_server_port: int = Field(
        default=4200, ge=1, le=65535, validation_alias=_env("PREFECT_SERVER_PORT")
    )
    prefect_ui_url: str = Field(
        default="http://127.0.0.1:4200", validation_alias=_env("PREFECT_UI_URL")
    )
    dask_scheduler_address: str | None = Field(
        default=None, validation_alias=_env("DASK_SCHEDULER_ADDRESS")
    )
    notify_webhook_url: str | None = Field(
        default=None, repr=False, validation_alias=_env("LIFECYCLE_NOTIFY_WEBHOOK_URL")
    )
    pseudonym_key: str | None = Field(
        default=None, repr=False, validation_alias=_env("LIFECYCLE_PSEUDONYM_KEY")
    )
    mlflow_ui_url: str = Field(
        default="http://127.0.0.1:5000", validation_alias=_env("MLFLOW_UI_URL")
    )
    # the service
    host: str = Field(default="127.0.0.1", validation_alias=_env("LIFECYCLE_HOST"))
    port: int = Field(default=8000, ge=1, le=65535, validation_alias=_env("LIFECYCLE_PORT"))
    log_level: str = Field(default="info", validation_alias=_env("LIFECYCLE_LOG_LEVEL"))
    admin_token: str | None = Field(
        default=None, repr=False, validation_alias=_env("LIFECYCLE_ADMIN_TOKEN")
    )
    viewer_token: str | None = Field(
        default=None, repr=False, validation_alias=_env("LIFECYCLE_VIEWER_TOKEN")
    )
    # the GitHub Actions run this process is part of, if any
    github_server_url: str | None = Field(default=None, validation_alias=_env("GITHUB_SERVER_URL"))
    github_repository: str | None = Field(default=None, validation_alias=_env("GITHUB_REPOSITORY"))
    github_run_id: str | None = Field(default=None, validation_alias=_env("GITHUB_RUN_ID"))

    @field_validator("ci", mode="before")
    @classmethod
    def _ci_flag(cls, value: Any) -> Any:
        """CI counts when it is 1 or true (as GitHub and most CI services set it), else not."""
        if isinstance(value, str):
            return value.strip().lower() in ("1", "true")
        return value

    @property
    def params_file(self) -> Path:
        """The default params file: LIFECYCLE_PARAMS, else params.yaml in the project's root."""
        return self.params if self.params is not None else self.home / PARAMS_FILE

    @property
    def root(self) -> Path:
        """The project's root as an absolute path (LIFECYCLE_HOME, else the current folder)."""
        return self.home.resolve()

    @property
    def run_url(self) -> str | None:
        """The URL of this GitHub Actions run, when run inside one."""
        server, repo, run_id = self.github_server_url, self.github_repository, self.github_run_id
        return f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else None


ENV_NAMES: tuple[str, ...] = tuple(
    name
    for field in Settings.model_fields.values()
    if isinstance(field.validation_alias, AliasChoices)
    for name in field.validation_alias.choices
    if isinstance(name, str)
)


def get_settings() -> Settings:
    """The settings for the environment as it is now (rebuilt only when a variable changed)."""
    return _settings_for(tuple(os.environ.get(name) for name in ENV_NAMES))


@lru_cache(maxsize=8)
def _settings_for(values: tuple[str | None, ...]) -> Settings:
    """Settings for one set of values; a bad one fails with the variable's name and the rule."""
    del values  # the cache key: Settings() reads os.environ itself
    try:
        return Settings()
    except ValidationError as err:
        lines = [f"{err.error_count()} invalid environment variable(s)"]
        for e in err.errors():
            name = ".".join(str(p) for p in e["loc"])
            lines.append(f"  {name} = {e.get('input')!r}: {e['msg']}")
        raise SettingsError("\n".join(lines)) from None
