"""Personal data written outside data/raw: ids and `privacy.personal` columns as keyed pseudonyms.

The key is LIFECYCLE_PSEUDONYM_KEY (`lifecycle.pseudonym`). Unset, the embedded local mode
(LIFECYCLE_ENV unset) makes a random key once in `<root>/.pseudonym.key` (mode 0600,
git-ignored) so a laptop run needs no setup and pseudonyms stay stable across runs; staging and
production (LIFECYCLE_ENV set) must set the variable: a clear error naming it, at the start of
whatever writes. The rule and the stores it covers: docs/privacy.md.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.config import Params
from lifecycle.pseudonym import (
    MIN_KEY_BYTES,
    PseudonymKeyError,
    is_pseudonym,
    key_from_settings,
    pseudonymize,
)
from lifecycle.settings import get_settings

if TYPE_CHECKING:
    import pandas as pd

KEY_FILE = ".pseudonym.key"


def local_key_file(root: Path) -> Path:
    """Where the embedded local mode keeps its generated key."""
    return root / KEY_FILE


def project_key(root: Path) -> bytes:
    """The pseudonym key: the variable, else (local mode only) the project's generated key file."""
    settings = get_settings()
    if settings.pseudonym_key is not None:
        return key_from_settings()
    if settings.env is not None:
        raise PseudonymKeyError(
            f"LIFECYCLE_PSEUDONYM_KEY is not set and LIFECYCLE_ENV is {settings.env!r}: "
            "outside the embedded local mode the key must come from the environment "
            "(a random secret of at least 16 bytes, e.g. `openssl rand -hex 32`)"
        )
    return _local_key(local_key_file(root))


def _local_key(path: Path) -> bytes:
    """Read the key file, making it first if absent (one winner when processes race)."""
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        try:
            os.link(tmp, path)  # fails if another process made it first: theirs wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    key = path.read_text().strip().encode()
    if len(key) < MIN_KEY_BYTES:
        raise PseudonymKeyError(f"{path}: the key has {len(key)} bytes, must be >= 16")
    return key


@dataclass(frozen=True)
class Masker:
    """Replaces the values of personal columns with their pseudonyms (nulls stay null)."""

    key: bytes
    columns: tuple[str, ...]

    def value(self, value: Any) -> Any:
        """One value's pseudonym (already-pseudonymized values and nulls are kept as they are)."""
        if value is None or is_pseudonym(value):
            return value
        return pseudonymize(_plain(value), self.key)

    def __call__(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows with personal values pseudonymized (the same list when no row carries one)."""
        cols = self.columns
        if not any(c in row for row in rows for c in cols):
            return rows
        out = []
        for row in rows:
            if any(c in row for c in cols):
                row = dict(row)
                for c in cols:
                    if c in row:
                        row[c] = self.value(row[c])
            out.append(row)
        return out

    def frame(self, df: pd.DataFrame) -> pd.DataFrame:
        """A copy of the frame with its personal columns pseudonymized."""
        present = [c for c in self.columns if c in df.columns]
        if not present:
            return df
        out = df.copy()
        for c in present:
            out[c] = [None if _isnull(v) else self.value(v) for v in out[c].tolist()]
        return out


def personal_columns(params: Params) -> tuple[str, ...]:
    """The id column and the columns params mark as personal."""
    return tuple(dict.fromkeys([params.data.id_column, *params.privacy.personal]))


def masker(params: Params, root: Path) -> Masker:
    """The masker of a project (raises PseudonymKeyError naming the variable when no key)."""
    return Masker(project_key(root), personal_columns(params))


def pseudonym_of(value: Any, key: bytes) -> str:
    """The pseudonym one id gets wherever it is written (what `forget` looks for)."""
    return pseudonymize(_plain(value), key)


def _plain(value: Any) -> Any:
    """An integral float as its int: the API may get 17 or 17.0 for one customer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _isnull(value: Any) -> bool:
    """Whether a frame cell is missing (None, NaN, NA)."""
    try:
        return bool(value is None or value != value)
    except (TypeError, ValueError):
        return False


def mask_frame(params: Params, root: Path, df: pd.DataFrame) -> pd.DataFrame:
    """A frame ready to write: personal columns pseudonymized (the key read only when needed)."""
    if not any(c in df.columns for c in personal_columns(params)):
        return df
    return masker(params, root).frame(df)
