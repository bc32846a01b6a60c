"""The promotion rule on constructed scores: who wins, and the reason given."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle.config import Params, parse_params
from lifecycle.evaluate import decide, paired_bootstrap


@pytest.fixture(scope="module")
def params(repo_params_mapping: dict[str, object]) -> Params:
    p = parse_params(repo_params_mapping)
    return p.model_copy(
        update={"promotion": p.promotion.model_copy(update={"bootstrap_samples": 300})}
    )


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 2000)
    good = np.clip(0.5 * y + 0.5 * rng.random(2000), 0, 1)
    weak = np.clip(0.1 * y + 0.9 * rng.random(2000), 0, 1)
    return y, good, weak


def test_first_valid_model_becomes_champion(params: Params, data: tuple[np.ndarray, ...]) -> None:
    y, good, _ = data
    d = decide(params, y, good, None, "1", None)
    assert d.promote and "no champion yet" in d.reason


def test_first_model_below_the_floor_is_refused(
    params: Params, data: tuple[np.ndarray, ...]
) -> None:
    y, _, _ = data
    rng = np.random.default_rng(2)
    d = decide(params, y, rng.random(len(y)), None, "1", None)
    assert not d.promote and "below the floor" in d.reason


def test_clearly_better_challenger_wins(params: Params, data: tuple[np.ndarray, ...]) -> None:
    y, good, weak = data
    d = decide(params, y, good, weak, "2", "1")
    assert d.promote and d.bootstrap is not None and d.bootstrap.lower > params.promotion.margin
    assert "beats champion v1" in d.reason


def test_worse_or_equal_challenger_loses(params: Params, data: tuple[np.ndarray, ...]) -> None:
    y, good, weak = data
    assert not decide(params, y, weak, good, "2", "1").promote
    same = decide(params, y, good, good.copy(), "2", "1")
    assert not same.promote and "does not beat" in same.reason
    assert decide(params, y, good, good, "1", "1").reason.endswith("already the champion")


def test_bootstrap_is_paired_and_seeded(params: Params, data: tuple[np.ndarray, ...]) -> None:
    y, good, weak = data
    a = paired_bootstrap(y, weak, good, params)
    b = paired_bootstrap(y, weak, good, params)
    assert a == b and a.lower <= a.mean_gain <= a.upper
    zero = paired_bootstrap(y, good, good, params)
    assert zero.lower == zero.upper == 0.0


def test_a_close_decision_says_by_how_much() -> None:
    from lifecycle.evaluate import Bootstrap, closeness

    near = Bootstrap("profit", 10.0, 0.5, 20.0, 1000, 0.95)
    said = closeness(near, 0.0)
    assert said.startswith("; the lower bound is 0.5 above the margin; a close call: within 10%")
    far = Bootstrap("profit", 30.0, -15.0, 60.0, 1000, 0.95)
    assert closeness(far, 0.0) == "; the lower bound is 15 at or below the margin"
