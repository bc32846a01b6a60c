"""A service's serving periods in the ledger: one row per use case served, updated in place."""

from __future__ import annotations

import logging
import os
import resource
from datetime import UTC, datetime
from typing import Any, Protocol

from lifecycle.ledger.record import record_serving_period
from lifecycle.system import cpu_seconds

log = logging.getLogger("lifecycle.serve")


class Served(Protocol):
    """What a period needs of a use case's service state (lifecycle.serve.state.ServiceState)."""

    settings: Any
    holder: Any
    period_start: datetime
    period_cpu: float
    period_predictions: int

    @property
    def side(self) -> dict[str, Any]:
        """The use cases served beside this one, by name."""


def record_periods(main: Served, close: bool = True) -> None:
    """Write the period so far to its ledger rows (same keys: updated); close it to start anew.

    Errors are logged, not raised. A `kill -9` loses at most the last update interval.
    """
    if not main.settings.record_ledger:
        return
    end, cpu = datetime.now(UTC), cpu_seconds()
    start = main.period_start
    base = f"serving:api:{os.getpid()}:{start.isoformat()}"
    states: dict[str, Any] = {main.settings.paths.use_case_name: main, **main.side}
    counts = {name: state.period_predictions for name, state in states.items()}
    try:
        for name, share in period_shares(counts, main.settings.paths.use_case_name).items():
            state, model = states[name], states[name].holder.current
            record_serving_period(
                start, end, counts[name],
                cpu_seconds=(cpu - main.period_cpu) * share,
                peak_memory_bytes=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                model_version=model.version if model else None,
                run_key=base if state is main else f"{base}:{name}",
                params=state.settings.params,
                wall_share=share,
                use_case=name,
            )  # fmt: skip
    except Exception:  # the ledger must never take the service down
        log.exception("could not record the serving period in the ledger")
        return
    if close:
        main.period_start, main.period_cpu = end, cpu
        for name, state in states.items():
            state.period_predictions -= counts[name]


def period_shares(counts: dict[str, int], own: str) -> dict[str, float]:
    """Each use case's share of a serving period, by predictions; the service's own always has a
    row (all of an idle period), the others one once they have answered."""
    total = sum(counts.values())
    if total == 0:
        return {own: 1.0}
    return {name: n / total for name, n in counts.items() if n > 0 or name == own}
