"""A retrain weighed by value: N of M violating windows, and an expected uplift worth its cost.

A window violates when the serving version's value per customer (realized, else estimated)
falls more than value.value_drop_share below its reference (its first value.reference_periods
periods), or when its realized value contradicted the estimate (decay). The expected uplift of a
retrain is the gap to the reference, per customer, times the recent window size, over
value.horizon_periods periods: what restoring the reference would bring. The expected cost is
the ledger's average over past retrains (their flow runs, children and staff review), else
retrain.planned_usd. Each answer states its figures.
"""

from __future__ import annotations

from dataclasses import dataclass

from lifecycle.config import Params
from lifecycle.value.net import retrain_rois
from lifecycle.value.store import ValueEntry, entries


@dataclass(frozen=True)
class ValueVerdict:
    """Is a retrain worth it now, and why (the figures)."""

    allowed: bool
    reason: str
    violations: int = 0
    windows: int = 0
    uplift_usd: float | None = None
    cost_usd: float | None = None


def _per_row(e: ValueEntry) -> float:
    """Value per customer of an entry (realized, else estimated)."""
    return (e.best_usd or 0.0) / e.rows if e.rows else 0.0


def value_verdict(params: Params, url: str | None = None) -> ValueVerdict:
    """Whether the serving version's recent value justifies a retrain's expected cost."""
    v = params.value
    found = [e for e in entries(url, model_name=params.mlflow.model_name)
             if e.best_usd is not None]  # fmt: skip
    if not found:
        return ValueVerdict(True, "value: no value recorded yet, value does not block")
    version = found[-1].model_version
    mine = [e for e in found if e.model_version == version]
    ref_rows = mine[: v.reference_periods]
    reference = sum(_per_row(e) for e in ref_rows) / len(ref_rows)
    recent = mine[len(ref_rows) :][-v.violations_window :]
    if not recent:
        return ValueVerdict(True, f"value: v{version} has only its {len(ref_rows)} reference "
                            "period(s), value does not block")  # fmt: skip
    floor = reference * (1 - v.value_drop_share) if reference > 0 else reference
    bad = [e for e in recent if e.decay or _per_row(e) < floor]
    now = sum(_per_row(e) for e in recent) / len(recent)
    size = sum(e.rows for e in recent) / len(recent)
    uplift = max(0.0, reference - now) * size * v.horizon_periods
    past = [r.cost_usd for r in retrain_rois(found, url) if r.cost_usd > 0]
    cost = sum(past) / len(past) if past else params.retrain.planned_usd
    basis = f"average of {len(past)} past retrain(s)" if past else "retrain.planned_usd"
    cur = params.prices.currency
    figures = (
        f"v{version}: {len(bad)} of its last {len(recent)} window(s) violate (value per customer "
        f"{now:,.2f} vs reference {reference:,.2f} {cur}, floor {floor:,.2f}); expected uplift "
        f"{uplift:,.0f} {cur} over {v.horizon_periods} period(s) vs expected retrain cost "
        f"{cost:,.2f} {cur} ({basis})"
    )
    allowed = len(bad) >= v.violations_needed and uplift > cost
    verdict = "worth it" if allowed else "not worth it yet"
    return ValueVerdict(
        allowed, f"value: {verdict}: {figures}", len(bad), len(recent), uplift, cost
    )
