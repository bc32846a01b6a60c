"""What every params section shares: frozen models, and the error a bad file raises."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ConfigError(ValueError):
    """A params file that cannot be used, with the key's path, the value and the rule broken."""


class Frozen(BaseModel):
    """Base of every params section: immutable, no unknown keys."""

    model_config = ConfigDict(frozen=True, extra="forbid")
