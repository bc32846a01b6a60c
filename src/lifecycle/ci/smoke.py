"""Smoke test after a deploy: poll an endpoint until it answers 200 or the deadline passes."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class SmokeResult:
    """How the probe ended: the last status (None: no answer), tries and seconds waited."""

    ok: bool
    status: int | None
    tries: int
    seconds: float
    detail: str


def probe(url: str, timeout: float = 120.0, interval: float = 2.0) -> SmokeResult:
    """Poll url until 200 (a rollout takes a while to answer) or give up at the deadline."""
    import httpx

    started = time.monotonic()
    tries, status, detail = 0, None, ""
    while True:
        tries += 1
        try:
            answer = httpx.get(url, timeout=min(10.0, max(timeout, 0.1)))
            status, detail = answer.status_code, answer.text[:500]
            if status == 200:
                return SmokeResult(True, status, tries, time.monotonic() - started, detail)
        except httpx.HTTPError as err:
            status, detail = None, f"{type(err).__name__}: {err}"
        if time.monotonic() - started + interval > timeout:
            return SmokeResult(False, status, tries, time.monotonic() - started, detail)
        time.sleep(interval)
