"""What the value page draws: per version and month, per period with its estimate band, retrains."""

from __future__ import annotations

from dataclasses import asdict
from functools import lru_cache
from importlib import resources
from typing import Any

from lifecycle.config import Params
from lifecycle.value.net import value_report
from lifecycle.value.store import REALIZED, entries


@lru_cache(maxsize=1)
def page_html() -> bytes:
    """The value page shipped inside this package."""
    return (resources.files("lifecycle.value") / "static" / "value.html").read_bytes()


def value_data(params: Params, url: str | None = None) -> dict[str, Any]:
    """Months (value, cost, net), periods (estimate band, realized), retrains, verdicts."""
    values = list(entries(url, model_name=params.mlflow.model_name))
    report = value_report(values, url, params.prices.currency)
    periods = [
        {
            "period": e.period, "start": e.period_start.isoformat(), "version": e.model_version,
            "status": e.status, "estimated": e.est_value_usd, "low": e.est_value_low,
            "high": e.est_value_high, "realized": e.value_usd if e.status == REALIZED else None,
            "random": e.baseline_random_usd, "decay": e.decay, "note": e.note,
        }
        for e in values
    ]  # fmt: skip
    return {"currency": params.prices.currency, **report.to_dict(), "periods": periods,
            "retrains": [asdict(r) for r in report.retrains]}  # fmt: skip
