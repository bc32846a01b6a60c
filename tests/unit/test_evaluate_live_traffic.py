"""The shadow's live comparison feeds the promotion decision: it can hold a promotion."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from lifecycle.config import Params
from lifecycle.evaluate import Decision, weigh_live_traffic
from lifecycle.paths import Paths
from lifecycle.predictions import predictions_dir
from lifecycle.serve.outcomes import OutcomeStore
from lifecycle.serve.predlog import Entry, PredictionLog


def _decision(promote: bool = True) -> Decision:
    """Challenger v2 against champion v1, as the holdout decided it."""
    return Decision(
        promote, "challenger v2 beats champion v1 on the holdout", "telco-churn", "2", "1",
        "profit", {"profit": 2.0}, {"profit": 1.0}, None, "2026-11-22T00:00:00+00:00",
    )  # fmt: skip


def _live_log(paths: Paths, challenger_is_better: bool, n: int = 300) -> None:
    """Champion v1 answered n customers, v2 shadow-scored them; their real outcomes follow."""
    rng = np.random.default_rng(1)
    truth = rng.random(n) < 0.3
    good = np.clip(truth * 0.6 + rng.random(n) * 0.4, 0, 1).tolist()
    noise = rng.random(n).tolist()
    champ, chall = (noise, good) if challenger_is_better else (good, noise)
    log = PredictionLog(predictions_dir(paths), flush_seconds=60)
    now = datetime.now(UTC)
    for i in range(n):
        log.append(Entry(
            f"r{i}", now, "1", [{"x": 1.0}], [champ[i]], ["No"], "api", variant="champion",
            shadow_version="2", shadow_scores=[chall[i]], shadow_labels=["No"],
        ))  # fmt: skip
    log.close()
    outcomes = [{"request_id": f"r{i}", "outcome": "Yes" if t else "No"} for i, t in
                enumerate(truth)]  # fmt: skip
    OutcomeStore(paths).record(outcomes, by="test")


def test_worse_on_live_traffic_holds_the_promotion(
    tmp_path: Path, make_params: Callable[..., Params]
) -> None:
    params, paths = make_params(serving={"shadow": True}), Paths(tmp_path)
    _live_log(paths, challenger_is_better=False)
    held = weigh_live_traffic(_decision(), params, paths)
    assert not held.promote
    assert "held by live traffic" in held.reason and "300 labelled customers" in held.reason
    assert held.live is not None and held.live["favours"] == "champion"


def test_better_on_live_traffic_keeps_the_promotion(
    tmp_path: Path, make_params: Callable[..., Params]
) -> None:
    params, paths = make_params(serving={"shadow": True}), Paths(tmp_path)
    _live_log(paths, challenger_is_better=True)
    kept = weigh_live_traffic(_decision(), params, paths)
    assert kept.promote and kept.live is not None and kept.live["favours"] == "challenger"


def test_no_shadow_or_another_pair_changes_nothing(
    tmp_path: Path, make_params: Callable[..., Params]
) -> None:
    paths = Paths(tmp_path)
    _live_log(paths, challenger_is_better=False)
    off = make_params(serving={"shadow": False})
    assert weigh_live_traffic(_decision(), off, paths) == _decision()
    other = Decision(**{**_decision().__dict__, "challenger_version": "7"})
    on = make_params(serving={"shadow": True})
    assert weigh_live_traffic(other, on, paths) == other
