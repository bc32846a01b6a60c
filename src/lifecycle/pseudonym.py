"""Pseudonyms for personal identifiers: a keyed hash (HMAC-SHA256), stable so joins still work.

The key comes from the environment (`LIFECYCLE_PSEUDONYM_KEY`, via lifecycle.settings), never
from params or logs; the same id under the same key always gives the same pseudonym, and
without the key a pseudonym cannot be turned back into the id or recomputed from a guess.
"""

from __future__ import annotations

import hmac
from collections.abc import Collection
from dataclasses import replace
from typing import Any, TypeVar

from lifecycle.settings import get_settings

PREFIX = "p_"
T = TypeVar("T")
MIN_KEY_BYTES = 16


class PseudonymKeyError(ValueError):
    """The pseudonymization key is missing or too short to be a secret."""


def key_from_settings() -> bytes:
    """The key from LIFECYCLE_PSEUDONYM_KEY; a clear error when it is unset or too short."""
    key = get_settings().pseudonym_key
    if key is None:
        raise PseudonymKeyError(
            "LIFECYCLE_PSEUDONYM_KEY is not set: personal ids cannot be pseudonymized "
            "(set a random secret of at least 16 bytes, e.g. `openssl rand -hex 32`)"
        )
    raw = key.encode()
    if len(raw) < MIN_KEY_BYTES:
        raise PseudonymKeyError(
            f"LIFECYCLE_PSEUDONYM_KEY has {len(raw)} bytes: must be at least {MIN_KEY_BYTES}"
        )
    return raw


def pseudonymize(value: object, key: bytes) -> str:
    """The pseudonym of one id (callers keep nulls as nulls: None would hash as "None")."""
    digest = hmac.digest(key, str(value).encode(), "sha256")  # one-shot: 4x faster than new()
    return PREFIX + digest[:16].hex()


def is_pseudonym(value: object) -> bool:
    """Whether a stored value already is a pseudonym (pseudonymizing twice would break joins)."""
    text = str(value)
    return text.startswith(PREFIX) and len(text) == len(PREFIX) + 32


def withhold(items: list[T], columns: Collection[str]) -> list[T]:
    """Findings (dataclasses with `column` and `examples`) with no example of a personal column.

    A validation report lists a few offending values (a duplicated id, say); for the id and the
    `privacy.personal` columns it keeps the count and drops the values, so reports and
    quarantine results never carry an id (no key needed: reports stay reproducible)."""
    return [_no_examples(it) if getattr(it, "column", None) in columns else it for it in items]


def _no_examples(item: Any) -> Any:
    """A copy of a finding without its example values."""
    return replace(item, examples=[])
