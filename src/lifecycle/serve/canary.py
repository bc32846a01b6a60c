"""Canary traffic: a share of customers answered by the challenger, stepped back when it fails.

Routing is sticky by customer id (params `data.id_column`, sent as an optional field of each
record): a stable hash of the id (BLAKE2b, the same in every process and every run) maps each
customer to a bucket in [0, 1), and a customer is in the canary when its bucket is below the
share. Raising the share keeps every customer already in the canary there; records without an
id always go to the champion. `Canary.record` judges the last `canary_window` canary model
calls once `canary_min_requests` are in: an error rate over `canary_max_error_rate` or a p95
over `canary_max_p95_ms` sets the share to 0 and keeps the reason (log line, GET /canary).
The state is per worker process, like the model holders.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lifecycle.config import ServingParams

log = logging.getLogger("lifecycle.serve.canary")
CHAMPION, CANARY = "champion", "canary"


def bucket(customer_id: object) -> float:
    """A customer's fixed place in [0, 1): the same id gives the same bucket everywhere."""
    digest = hashlib.blake2b(str(customer_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def in_canary(customer_id: object, share: float) -> bool:
    """Whether this customer is answered by the challenger at this share."""
    return customer_id is not None and share > 0 and bucket(customer_id) < share


def split(
    rows: Sequence[dict[str, Any]], id_column: str, share: float
) -> tuple[list[int], list[int]]:
    """Indices of the records the champion answers and of those the canary answers."""
    if share <= 0:
        return list(range(len(rows))), []
    champion: list[int] = []
    canary: list[int] = []
    for i, row in enumerate(rows):
        (canary if in_canary(row.get(id_column), share) else champion).append(i)
    return champion, canary


@dataclass(frozen=True)
class StepBack:
    """Why and when the canary went back to 0%."""

    at: str
    reason: str
    share_before: float


class Canary:
    """The live canary share of one worker and the rule that steps it back."""

    def __init__(self, params: ServingParams) -> None:
        """Start at the configured share with an empty window."""
        self.params = params
        self.share = params.canary_share
        self.set_by = "params"
        self.step_back: StepBack | None = None
        self._window: deque[tuple[bool, float]] = deque(maxlen=params.canary_window)
        self._lock = threading.Lock()

    def set_share(self, share: float, by: str) -> None:
        """An operator's new share: the window starts over and a past step-back is cleared."""
        if not 0 <= share <= 1:
            raise ValueError(f"canary share {share} is outside [0, 1]")
        with self._lock:
            self.share, self.set_by = share, by
            self._window.clear()
            self.step_back = None
        log.info("canary share set to %.4f by %s", share, by)

    def record(self, ok: bool, seconds: float) -> StepBack | None:
        """Count one canary model call; step back to 0% when the window breaks a bound."""
        with self._lock:
            if self.share <= 0:
                return None
            self._window.append((ok, seconds))
            reason = self._breach()
            if reason is None:
                return None
            now = datetime.now(UTC).isoformat(timespec="seconds")
            self.step_back = StepBack(now, reason, self.share)
            self.share, self.set_by = 0.0, "automatic step-back"
            self._window.clear()
        log.warning("canary stepped back to 0%%: %s", reason)
        return self.step_back

    def _breach(self) -> str | None:
        """The bound the window passes, in words (None while within bounds or too few calls)."""
        p, n = self.params, len(self._window)
        if n < p.canary_min_requests:
            return None
        errors = sum(1 for ok, _ in self._window if not ok)
        if errors / n > p.canary_max_error_rate:
            return (
                f"challenger error rate {errors / n:.1%} ({errors} of the last {n} canary "
                f"requests) is over serving.canary_max_error_rate {p.canary_max_error_rate:.1%}"
            )
        p95 = _p95([s for ok, s in self._window if ok]) * 1000
        if p95 > p.canary_max_p95_ms:
            return (
                f"challenger p95 model time {p95:.2f} ms over the last {n} canary requests is "
                f"over serving.canary_max_p95_ms {p.canary_max_p95_ms:g} ms"
            )
        return None

    def status(self) -> dict[str, Any]:
        """What GET /canary shows: share, who set it, the window's figures, the last step-back."""
        with self._lock:
            window = list(self._window)
            share, by, back = self.share, self.set_by, self.step_back
        errors = sum(1 for ok, _ in window if not ok)
        p95 = _p95([s for ok, s in window if ok]) * 1000 if window else None
        return {
            "share": share,
            "configured_share": self.params.canary_share,
            "set_by": by,
            "window": {
                "requests": len(window),
                "errors": errors,
                "error_rate": errors / len(window) if window else None,
                "p95_ms": p95,
            },
            "bounds": {
                "max_error_rate": self.params.canary_max_error_rate,
                "max_p95_ms": self.params.canary_max_p95_ms,
                "min_requests": self.params.canary_min_requests,
                "window": self.params.canary_window,
            },
            "stepped_back": None if back is None else back.__dict__,
        }


def _p95(values: list[float]) -> float:
    """The 95th percentile (nearest rank; 0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]
