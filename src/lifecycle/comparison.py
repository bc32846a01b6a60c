"""Champion vs challenger on the same served requests: agreement, distributions, profit.

The prediction log holds both scores of every shadowed request (`lifecycle.serve.shadow`
writes them); `compare` reads it back and, once outcomes arrive (POST /feedback), puts each
model's campaign profit on the same customers beside the agreement. `lifecycle.evaluate` weighs
it in a promotion; GET /shadow shows it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.config import Params
from lifecycle.metrics import campaign_profit
from lifecycle.paths import Paths
from lifecycle.predictions import labelled

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Summary:
    """One model's score distribution on the shadowed rows."""

    mean: float
    std: float
    p10: float
    p50: float
    p90: float
    positive_rate: float


@dataclass(frozen=True)
class Comparison:
    """Champion vs challenger on the same live requests, and on their outcomes once known."""

    champion_version: str
    challenger_version: str
    rows: int
    first: str
    last: str
    threshold: float
    agreement: float
    mean_abs_difference: float
    correlation: float | None
    champion: Summary
    challenger: Summary
    labelled_rows: int
    champion_profit: float | None
    challenger_profit: float | None
    favours: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def _summary(scores: Any, threshold: float) -> Summary:
    """Mean, spread, deciles and the share labelled positive."""
    import numpy as np

    s = np.asarray(scores, dtype=np.float64)
    p10, p50, p90 = (float(x) for x in np.quantile(s, [0.1, 0.5, 0.9]))
    return Summary(float(s.mean()), float(s.std()), p10, p50, p90, float((s >= threshold).mean()))


def compare(params: Params, paths: Paths) -> list[Comparison]:
    """Every (champion, challenger) pair in the prediction log, newest first."""
    frame = labelled(paths)
    return compare_frame(params, frame)


def compare_frame(params: Params, frame: pd.DataFrame) -> list[Comparison]:
    """The comparison of a prediction-log frame (with an outcome column, may be null)."""
    if frame.empty or "shadow_score" not in frame.columns:
        return []
    shadowed = frame[frame["shadow_score"].notna()].copy()
    shadowed["model_version"] = shadowed["model_version"].astype(str)
    shadowed["shadow_version"] = shadowed["shadow_version"].astype(str)
    out = [
        _compare_pair(params, str(champ), str(chall), group)
        for (champ, chall), group in shadowed.groupby(["model_version", "shadow_version"])
    ]
    return sorted(out, key=lambda c: c.last, reverse=True)


def _compare_pair(params: Params, champ: str, chall: str, rows: pd.DataFrame) -> Comparison:
    """One pair's agreement, distributions and, with enough outcomes, campaign profit."""
    import numpy as np

    threshold = params.serving.threshold or params.train.threshold
    a = rows["score"].to_numpy(dtype=np.float64)
    b = rows["shadow_score"].to_numpy(dtype=np.float64)
    corr = float(np.corrcoef(a, b)[0, 1]) if len(a) > 1 and a.std() > 0 and b.std() > 0 else None
    money = _profits(params, rows)
    times = rows["time"].astype(str)
    return Comparison(
        champ, chall, len(rows), times.min(), times.max(), threshold,
        float(((a >= threshold) == (b >= threshold)).mean()),
        float(np.abs(a - b).mean()), corr,
        _summary(a, threshold), _summary(b, threshold),
        money.labelled, money.champion, money.challenger, money.favours, money.reason,
    )  # fmt: skip


@dataclass(frozen=True)
class _Profits:
    """Campaign profit of each model on the labelled shadowed rows, and the verdict."""

    labelled: int
    champion: float | None
    challenger: float | None
    favours: str
    reason: str


def _profits(params: Params, rows: pd.DataFrame) -> _Profits:
    """Each model's campaign profit on the labelled shadowed rows, and which one it favours."""
    import numpy as np

    if "outcome" not in rows.columns:
        rows = rows.assign(outcome=None)
    known = rows[rows["outcome"].notna()]
    n, need = len(known), params.serving.shadow_min_labelled
    if n < need:
        why = f"waiting for outcomes: {n} of serving.shadow_min_labelled {need} labelled rows"
        return _Profits(n, None, None, "undecided", why)
    y = (known["outcome"].astype(str) == str(params.data.positive_label)).to_numpy(dtype=float)
    champ = campaign_profit(y, known["score"].to_numpy(dtype=np.float64), params.campaign)
    chall = campaign_profit(y, known["shadow_score"].to_numpy(dtype=np.float64), params.campaign)
    gap = chall - champ
    favours = "challenger" if gap > 0 else "champion" if gap < 0 else "undecided"
    cur = params.prices.currency
    why = (
        f"on {n} labelled customers the challenger's campaign earns {chall:,.0f} {cur} and the "
        f"champion's {champ:,.0f} {cur} ({gap:+,.0f} {cur} for the challenger)"
    )
    return _Profits(n, champ, chall, favours, why)
