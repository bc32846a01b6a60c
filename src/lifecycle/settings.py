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

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator
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
    # a use case made by `lifecycle new`: its params, data and reports in use_cases/<name>/
    use_case: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
        validation_alias=_env("LIFECYCLE_USE_CASE"),
    )
    # set by `lifecycle simulate` for its own processes: the drift scenario the simulated world
    # follows (a `relation` scenario lifts the behavioural expectation on its column)
    simulated_scenario: str | None = Field(
        default=None, validation_alias=_env("LIFECYCLE_SIMULATED_SCENARIO")
    )
    # stores: MLflow tracking/registry and the cost ledger (embedded SQLite files when unset)
    mlflow_tracking_uri: str | None = Field(
        default=None, validation_alias=_env("MLFLOW_TRACKING_URI")
    )
    ledger_url: str | None = Field(default=None, validation_alias=_env("LIFECYCLE_LEDGER_URL"))
    # what a ledger entry is charged to and why it ran
    phase: str | None = Field(default=None, validation_alias=_env("LIFECYCLE_PHASE"))
    trigger: str | None = Field(default=None, validation_alias=_env("LIFECYCLE_TRIGGER"))
    ci: bool = Field(default=False, validation_alias=_env("CI"))
    # set by `make run`: "user system wall" seconds of the environment sync before the run
    # (bash's `time`), which `lifecycle run` records as the run's setup entry
    setup_usage: str | None = Field(
        default=None,
        pattern=r"^\s*\d+(\.\d+)?\s+\d+(\.\d+)?\s+\d+(\.\d+)?\s*$",
        validation_alias=_env("LIFECYCLE_SETUP_USAGE"),
    )
    # Prefect and Dask
    prefect_api_url: str | None = Field(default=None, validation_alias=_env("PREFECT_API_URL"))
    prefect_server_port: int = Field(
        default=4200, ge=1, le=65535, validation_alias=_env("PREFECT_SERVER_PORT")
    )
    # unset: the local server's UI on PREFECT_SERVER_PORT, so changing the port moves the links
    prefect_ui_url: str = Field(
        default="", validate_default=True, validation_alias=_env("PREFECT_UI_URL")
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
    outcomes_token: str | None = Field(
        default=None, repr=False, validation_alias=_env("LIFECYCLE_OUTCOMES_TOKEN")
    )
    # set by `lifecycle serve` for its workers: load the model before taking any request
    serve_load_first: bool = Field(
        default=False, validation_alias=_env("LIFECYCLE_SERVE_LOAD_FIRST")
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

    @field_validator("prefect_ui_url")
    @classmethod
    def _ui_follows_port(cls, value: str, info: ValidationInfo) -> str:
        """Unset, the Prefect UI is the local server's on PREFECT_SERVER_PORT."""
        return value or f"http://127.0.0.1:{info.data.get('prefect_server_port', 4200)}"

    @property
    def params_file(self) -> Path:
        """The default params file: LIFECYCLE_PARAMS, else params.yaml of the use case (in
        use_cases/<name>/) or of the project's root."""
        if self.params is not None:
            return self.params
        if self.use_case is not None:
            return self.home / "use_cases" / self.use_case / PARAMS_FILE
        return self.home / PARAMS_FILE

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
