"""The only reader of params.yaml files: load, overlay an environment, explain what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from lifecycle.config.base import ConfigError
from lifecycle.config.estimators import KeyedValueError
from lifecycle.config.params import Params
from lifecycle.settings import PARAMS_FILE, get_settings

ENVIRONMENTS = ("staging", "production")


def default_params_file() -> Path:
    """The one default: LIFECYCLE_PARAMS, else params.yaml in LIFECYCLE_HOME (or the cwd)."""
    return get_settings().params_file


def _format_errors(err: ValidationError, raw: dict[str, Any], source: Path) -> str:
    """One line per broken rule: the key's path, the value found and the rule."""
    lines = [f"{source}: {err.error_count()} invalid value(s)"]
    for e in err.errors():
        path = ".".join(str(p) for p in e["loc"]) or "<root>"
        value: Any = e.get("input", raw)
        msg = e["msg"]
        keyed = (e.get("ctx") or {}).get("error")
        if isinstance(keyed, KeyedValueError):  # a rule broken inside a mapping: name its key
            path, value, msg = f"{path}.{keyed.key}", keyed.value, keyed.rule
        shown = "<missing>" if e["type"] == "missing" else repr(value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        lines.append(f"  {path} = {shown}: {msg}")
    return "\n".join(lines)


def parse_params(raw: Any, source: Path = Path(PARAMS_FILE)) -> Params:
    """Validate an already-loaded mapping (tests and overlays use this)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping, got {type(raw).__name__}")
    try:
        return Params.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(_format_errors(err, raw, source)) from None


def load_params(path: Path | str | None = None) -> Params:
    """Read and validate a params file (the default one when path is None)."""
    source = Path(path) if path else default_params_file()
    if not source.is_file():
        raise ConfigError(f"{source}: params file not found")
    try:
        raw = yaml.safe_load(source.read_text())
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: not valid YAML: {err}") from None
    return parse_params(raw, source)


def deep_merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Overlay mappings key by key; anything else (lists, scalars) replaces the base value."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def overlay_path(source: Path, env: str) -> Path:
    """params.<env>.yaml beside the base file (params.yaml -> params.production.yaml)."""
    return source.with_name(f"{source.stem}.{env}{source.suffix}")


def load_params_for(env: str | None = None, path: Path | str | None = None) -> Params:
    """The params file with the environment's overlay merged over it (env or LIFECYCLE_ENV)."""
    chosen = env if env is not None else get_settings().env
    if chosen is None:
        return load_params(path)
    if chosen not in ENVIRONMENTS:
        raise ConfigError(f"LIFECYCLE_ENV = {chosen!r}: must be one of {list(ENVIRONMENTS)}")
    source = Path(path) if path else default_params_file()
    extra = overlay_path(source, chosen)
    if not source.is_file():
        raise ConfigError(f"{source}: params file not found")
    if not extra.is_file():
        raise ConfigError(f"{extra}: the overlay of environment {chosen!r} is missing")
    try:
        raw = yaml.safe_load(source.read_text())
        more = yaml.safe_load(extra.read_text()) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{source} or {extra}: not valid YAML: {err}") from None
    if not isinstance(raw, dict) or not isinstance(more, dict):
        raise ConfigError(f"{source} and {extra}: the top level must be a mapping")
    return parse_params(deep_merge(raw, more), extra)
