"""A serving period split between the use cases one service answers for."""

from __future__ import annotations

import pytest

from lifecycle.serve.periods import period_shares


def test_an_idle_period_is_the_services_own() -> None:
    """No predictions at all: one row, the service's own use case, all of the period."""
    assert period_shares({"default": 0, "twin": 0}, "default") == {"default": 1.0}


def test_shares_follow_predictions_and_the_own_row_stays() -> None:
    """Only side traffic: the own row is kept at 0; a use case with none has no row."""
    shares = period_shares({"default": 0, "twin": 30, "bare": 0}, "default")
    assert shares == {"default": 0.0, "twin": 1.0}
    mixed = period_shares({"default": 10, "twin": 30}, "default")
    assert mixed == {"default": pytest.approx(0.25), "twin": pytest.approx(0.75)}
    assert sum(mixed.values()) == pytest.approx(1.0)
