"""Keyed pseudonyms: stable under one key, different under another, a clear error without it."""

from __future__ import annotations

import pytest

from lifecycle.pseudonym import PseudonymKeyError, is_pseudonym, key_from_settings, pseudonymize

KEY = b"k" * 32


def test_the_same_id_gives_the_same_pseudonym_and_joins_still_work() -> None:
    """Stable under one key; ids differ; another key gives another pseudonym; no raw id in it."""
    a, b = pseudonymize("7590-VHVEG", KEY), pseudonymize("7590-VHVEG", KEY)
    assert a == b and is_pseudonym(a) and "7590" not in a
    assert pseudonymize("5575-GNVDE", KEY) != a
    assert pseudonymize("7590-VHVEG", b"x" * 32) != a
    assert pseudonymize(17, KEY) == pseudonymize("17", KEY)
    assert not is_pseudonym("7590-VHVEG")


def test_a_missing_or_short_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unset: names the variable and how to make one; too short: names the length and rule."""
    monkeypatch.delenv("LIFECYCLE_PSEUDONYM_KEY", raising=False)
    with pytest.raises(PseudonymKeyError, match="LIFECYCLE_PSEUDONYM_KEY is not set"):
        key_from_settings()
    monkeypatch.setenv("LIFECYCLE_PSEUDONYM_KEY", "short")
    with pytest.raises(PseudonymKeyError, match="has 5 bytes: must be at least 16"):
        key_from_settings()
    monkeypatch.setenv("LIFECYCLE_PSEUDONYM_KEY", "0123456789abcdef0123")
    assert key_from_settings() == b"0123456789abcdef0123"


def test_withhold_drops_examples_of_personal_columns_only() -> None:
    """A finding on the id keeps its count and loses its values; other findings are kept."""
    from dataclasses import dataclass, field

    from lifecycle.pseudonym import withhold

    @dataclass(frozen=True)
    class Finding:
        column: str
        rows: int
        examples: list[object] = field(default_factory=list)

    found = [Finding("customer_id", 2, ["7590-VHVEG"]), Finding("tenure", 1, [-3])]
    assert withhold(found, ("customer_id",)) == [Finding("customer_id", 2), found[1]]
