"""Canary routing (hash buckets, share, stickiness) and the automatic step-back rule."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lifecycle.config import ServingParams
from lifecycle.serve.canary import Canary, bucket, in_canary, split


def test_bucket_is_the_same_in_another_process() -> None:
    """Stable across processes (unlike hash(), which is salted per process)."""
    here = [bucket(f"C-{i}") for i in range(5)]
    code = "from lifecycle.serve.canary import bucket; print([bucket(f'C-{i}') for i in range(5)])"
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert repr(here) == there.stdout.strip()
    assert bucket(42) == bucket("42") and all(0 <= b < 1 for b in here)


@pytest.mark.parametrize("share", [0.01, 0.1, 0.25, 0.5])
def test_share_over_10000_customers(share: float) -> None:
    """The canary's share of 10,000 customers is within a point of the configured one."""
    measured = sum(in_canary(f"cust-{i}", share) for i in range(10_000)) / 10_000
    assert abs(measured - share) < 0.01, measured


def test_sticky_and_monotone() -> None:
    """A customer keeps its variant; raising the share only adds customers to the canary."""
    ids = [f"cust-{i}" for i in range(2000)]
    at10 = {c for c in ids if in_canary(c, 0.1)}
    at20 = {c for c in ids if in_canary(c, 0.2)}
    assert at10 < at20
    assert at10 == {c for c in reversed(ids) if in_canary(c, 0.1)}
    assert not any(in_canary(c, 0.0) for c in ids) and in_canary(None, 1.0) is False


def test_split_keeps_order_and_sends_no_id_to_the_champion() -> None:
    """Indices of each variant, in request order."""
    rows = [{"customer_id": f"cust-{i}"} for i in range(50)] + [{}]
    champ, canary = split(rows, "customer_id", 0.5)
    assert sorted(champ + canary) == list(range(51)) and 50 in champ
    assert champ == sorted(champ) and canary == sorted(canary) and canary
    assert split(rows, "customer_id", 0.0) == (list(range(51)), [])


def rule(**kw: float) -> Canary:
    """A canary at 20% with a small window."""
    base = {"canary_share": 0.2, "canary_window": 10, "canary_min_requests": 4}
    return Canary(ServingParams(**{**base, **kw}))  # type: ignore[arg-type]


def test_steps_back_on_errors_only_once_judged() -> None:
    """Errors before min_requests are not judged; over the rate the share goes to 0."""
    c = rule(canary_max_error_rate=0.3)
    assert c.record(False, 0.001) is None and c.record(True, 0.001) is None
    assert c.record(True, 0.001) is None and c.share == 0.2
    back = c.record(True, 0.001)  # 1 of 4 = 25%: within 30%
    assert back is None
    back = c.record(False, 0.001)  # 2 of 5 = 40%
    assert back is not None and "error rate 40.0%" in back.reason and c.share == 0.0
    assert c.status()["stepped_back"]["share_before"] == 0.2
    assert c.record(False, 0.001) is None  # at 0% nothing more is judged


def test_steps_back_on_latency_and_operator_restarts() -> None:
    """A p95 over the bound steps back; a new share clears the step-back and the window."""
    c = rule(canary_max_p95_ms=10.0)
    for _ in range(3):
        c.record(True, 0.002)
    back = c.record(True, 0.050)
    assert back is not None and "p95 model time 50.00 ms" in back.reason
    c.set_share(0.3, "operator")
    status = c.status()
    assert status["share"] == 0.3 and status["stepped_back"] is None
    assert status["window"]["requests"] == 0 and status["set_by"] == "operator"
    with pytest.raises(ValueError, match="outside"):
        c.set_share(1.2, "operator")


def test_params_refuse_a_minimum_above_the_window() -> None:
    """canary_min_requests must fit in canary_window; shares stay in [0, 1]."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="canary_min_requests"):
        ServingParams(canary_window=10, canary_min_requests=11)
    with pytest.raises(ValidationError):
        ServingParams(canary_share=1.5)
