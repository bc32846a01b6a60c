"""Value minus cost: per version and month, cumulative since promotion, retrain ROI, verdicts.

Cost of a version in a month: every ledger entry linked to that model version (its training
run, its serving hours, the monitor runs that checked it), by the month the entry started.
Value: realized where outcomes arrived, else the estimate (marked as such). A retrain's cost is
its flow entry and every run metered inside it; its uplift is the new champion's value over the
old one's on the same customers (shadow scores) when they exist, else the difference of their
average value per period (stated as such). A challenger that never served is a cost with no
uplift.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, or_, select

from lifecycle.ledger.session import get_engine
from lifecycle.ledger.tables import tables
from lifecycle.value.store import REALIZED, ValueEntry


@dataclass(frozen=True)
class MonthNet:
    """One version's month: what it earned (realized or estimated), what it cost, the net."""

    version: str
    month: str
    periods: int
    realized_usd: float
    estimated_usd: float
    cost_usd: float
    net_usd: float
    cumulative_net_usd: float
    roi: float | None
    estimated: bool  # some of the month's value is still an estimate


@dataclass(frozen=True)
class RetrainRoi:
    """One retrain: what it cost, what its challenger bought."""

    key: str
    started_at: str
    challenger: str | None
    replaced: str | None
    served: bool
    cost_usd: float
    uplift_usd_per_period: float | None
    basis: str
    roi: float | None
    payback_periods: float | None


@dataclass(frozen=True)
class ValueReport:
    """Everything `lifecycle ledger value` prints."""

    months: tuple[MonthNet, ...]
    retrains: tuple[RetrainRoi, ...]
    verdicts: dict[str, str]

    def only(self, version: str) -> ValueReport:
        """The report of one version (its months, its retrains, its verdict)."""
        return ValueReport(
            tuple(m for m in self.months if m.version == version),
            tuple(r for r in self.retrains if version in (r.challenger, r.replaced)),
            {v: line for v, line in self.verdicts.items() if v == version},
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "months": [asdict(m) for m in self.months],
            "retrains": [asdict(r) for r in self.retrains],
            "verdicts": self.verdicts,
        }


def version_costs(url: str | None = None) -> dict[tuple[str, str], float]:
    """USD of every ledger entry by (model version, month)."""
    _, entries, _ = tables()
    query = (
        select(entries.c.model_version, entries.c.month, func.sum(entries.c.total_usd))
        .where(entries.c.model_version.is_not(None))
        .group_by(entries.c.model_version, entries.c.month)
    )
    with get_engine(url).connect() as conn:
        return {(str(v), str(m)): float(usd or 0) for v, m, usd in conn.execute(query)}


def month_nets(values: Sequence[ValueEntry], costs: dict[tuple[str, str], float]) -> list[MonthNet]:
    """Per version and month: value, cost, net, ROI and the running net since it first served."""
    keys = {(e.model_version, e.month) for e in values} | set(costs)
    out: list[MonthNet] = []
    running: dict[str, float] = defaultdict(float)
    for version, month in sorted(keys, key=lambda k: (_num(k[0]), k[1])):
        mine = [e for e in values if (e.model_version, e.month) == (version, month)]
        realized = sum(e.value_usd or 0.0 for e in mine if e.status == REALIZED)
        estimated = sum(e.est_value_usd or 0.0 for e in mine if e.status != REALIZED)
        cost = costs.get((version, month), 0.0)
        net = realized + estimated - cost
        running[version] += net
        out.append(MonthNet(version, month, len(mine), realized, estimated, cost, net,
                            running[version], net / cost if cost > 0 else None,
                            any(e.status != REALIZED for e in mine)))  # fmt: skip
    return out


def _num(version: str) -> tuple[int, str]:
    """Versions in numeric order (v10 after v9)."""
    return (int(version), "") if version.isdigit() else (1 << 30, version)


def verdicts(months: Iterable[MonthNet], currency: str = "USD") -> dict[str, str]:
    """One line per version: earns X a month net of its costs, or costs more since a month."""
    by: dict[str, list[MonthNet]] = defaultdict(list)
    for m in months:
        by[m.version].append(m)
    out = {}
    for version, rows in by.items():
        served = [m for m in rows if m.periods]
        if not served:
            cost = sum(m.cost_usd for m in rows)
            out[version] = (
                f"v{version} never served: it cost {cost:,.2f} {currency} and earned nothing"
            )
            continue
        rows = rows[rows.index(served[0]) :]  # from its first served month (promotion)
        tail = 0
        while tail < len(rows) and rows[len(rows) - 1 - tail].net_usd < 0:
            tail += 1
        est = " (partly estimated)" if any(m.estimated for m in rows) else ""
        if tail:
            since = rows[len(rows) - tail].month
            out[version] = f"v{version} costs more than it earns since {since}{est}"
        else:
            avg = sum(m.net_usd for m in rows) / len(rows)
            out[version] = f"v{version} earns {avg:,.0f} {currency} a month net of its costs{est}"
    return out


def retrain_rois(values: Sequence[ValueEntry], url: str | None = None) -> list[RetrainRoi]:
    """Every retrain flow run: its whole cost against its challenger's uplift."""
    _, entries, _ = tables()
    with get_engine(url).connect() as conn:
        runs = conn.execute(
            select(entries.c.key, entries.c.started_at, entries.c.model_version)
            .where(entries.c.kind == "flow", entries.c.name == "retrain")
            .order_by(entries.c.started_at)
        ).all()
        out = []
        for key, started, challenger in runs:
            cost = conn.execute(
                select(func.sum(entries.c.total_usd)).where(
                    or_(entries.c.key == key, entries.c.parent_key == key)
                )
            ).scalar()
            out.append(_roi(str(key), str(started), challenger, float(cost or 0), values))
    return out


def _roi(
    key: str, started: str, challenger: str | None, cost: float, values: Sequence[ValueEntry]
) -> RetrainRoi:
    """A retrain's uplift per period, ROI on its cost and payback in periods."""
    real = [e for e in values if e.status == REALIZED and e.value_usd is not None]
    new = [e for e in real if e.model_version == challenger]
    served = any(e.model_version == challenger for e in values)
    first = min((e.period_start for e in values if e.model_version == challenger), default=None)
    before = [e for e in real if first is not None and e.period_start < first]
    replaced = before[-1].model_version if before else None
    if challenger is None or not served:
        return RetrainRoi(key, started, challenger, replaced, False, cost, None,
                          "the challenger never served: a cost, no uplift", None, None)  # fmt: skip
    shadow = [e for e in new if e.baseline_previous_usd is not None]
    if shadow:
        gaps = [(e.value_usd or 0.0) - (e.baseline_previous_usd or 0.0) for e in shadow]
        uplift = sum(gaps) / len(gaps)
        basis = (f"same customers: shadow scores of v{shadow[0].previous_version} on "
                 f"{len(shadow)} period(s)")  # fmt: skip
    elif new and replaced is not None:
        old = [e for e in before if e.model_version == replaced]
        uplift = _mean(new) - _mean(old)
        basis = (f"different periods: v{challenger}'s mean realized value per period over "
                 f"{len(new)} against v{replaced}'s over {len(old)}")  # fmt: skip
    else:
        return RetrainRoi(key, started, challenger, replaced, True, cost, None,
                          "waiting for realized outcomes of both versions", None, None)  # fmt: skip
    roi = (uplift - cost) / cost if cost > 0 else None
    payback = cost / uplift if uplift > 0 else None
    return RetrainRoi(key, started, challenger, replaced, True, cost, uplift, basis, roi, payback)


def _mean(rows: Sequence[ValueEntry]) -> float:
    """Mean realized value per period."""
    return sum(e.value_usd or 0.0 for e in rows) / len(rows) if rows else 0.0


def value_report(values: Sequence[ValueEntry], url: str | None = None,
                 currency: str = "USD") -> ValueReport:  # fmt: skip
    """Months, retrains and verdicts of the stored value entries against the ledger's costs."""
    months = month_nets(values, version_costs(url))
    return ValueReport(tuple(months), tuple(retrain_rois(values, url)), verdicts(months, currency))
