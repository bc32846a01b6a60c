"""A period's value entries: estimate before outcomes, realized after, each outcome once."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifecycle.config import Params
from lifecycle.metrics import campaign_profit
from lifecycle.value.calibration import Calibration, fit_calibration
from lifecycle.value.period import Period, PeriodError, period_entries
from lifecycle.value.store import ESTIMATED, REALIZED, UNCALIBRATED, entries, record

START, END = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
PERIOD = Period("sim-month_01", START, END, {"prefect_flow_run_id": "run-1", "data_version": "d1"})


def _served(n: int = 1000, seed: int = 0, version: str = "3") -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    p = rng.beta(1.2, 3.0, n)
    churn = np.where(rng.random(n) < p, "Yes", "No")
    return pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(n)],
        "request_id": [f"r{i // 100}" for i in range(n)],
        "record": [i % 100 for i in range(n)], "score": p, "model_version": version, "churn": churn,
    })  # fmt: skip


def _calibrated(params: Params) -> Calibration:
    frame = _served(3000, seed=9)
    y = (frame["churn"] == "Yes").to_numpy(dtype=float)
    return fit_calibration(y, frame["score"].to_numpy(), params.value)


def test_estimate_then_realized_keeps_the_estimate_and_records_its_error(
    params: Params, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    served, cal = _served(), {"3": _calibrated(params)}
    hidden = served.assign(churn=None)
    [est] = period_entries(hidden, params, cal, PERIOD, reveal=True)
    assert est.status == ESTIMATED and est.value_usd is None
    assert "0 of 1000 rows labelled" in (est.note or "")
    record(est, url)
    [real] = period_entries(served, params, cal, PERIOD, reveal=True)
    stored = record(real, url)
    y = (served["churn"] == "Yes").to_numpy(dtype=float)
    assert stored.status == REALIZED
    assert stored.value_usd == pytest.approx(campaign_profit(y, served["score"], params.campaign))
    assert stored.est_value_usd == est.est_value_usd
    assert stored.value_error_usd == pytest.approx(stored.value_usd - est.est_value_usd)
    assert stored.baseline_random_usd == pytest.approx(200 * (y.mean() * 180 - 12))
    assert stored.links["prefect_flow_run_id"] == "run-1"
    # posting the same outcomes again (and an estimate after them) changes nothing
    record(real, url)
    record(est, url)
    [again] = list(entries(url))
    assert again.value_usd == stored.value_usd and again.status == REALIZED


def test_an_outcome_posted_twice_counts_once(params: Params) -> None:
    served = _served(500)
    twice = pd.concat([served, served.iloc[:50]], ignore_index=True)
    cal = {"3": _calibrated(params)}
    [one] = period_entries(served, params, cal, PERIOD, reveal=True)
    [two] = period_entries(twice, params, cal, PERIOD, reveal=True)
    assert (two.rows, two.value_usd) == (one.rows, one.value_usd)


def test_a_swap_mid_period_values_each_version_on_its_own_rows(params: Params) -> None:
    later = _served(600, 2, "4").assign(request_id=lambda f: "later-" + f["request_id"])
    frame = pd.concat([_served(400, 1, "3"), later], ignore_index=True)
    frame["customer_id"] = [f"c{i}" for i in range(len(frame))]
    found = period_entries(frame, params, {"3": _calibrated(params)}, PERIOD, reveal=False)
    got = [(e.model_version, e.rows, e.contacted) for e in found]
    assert got == [("3", 400, 80), ("4", 600, 120)]
    assert found[1].status == UNCALIBRATED and "no calibration of v4" in (found[1].note or "")


def test_uncalibrated_scores_give_no_number_but_still_realize(params: Params) -> None:
    frame = _served()
    bad = Calibration("none", 1000, 0.2, 0.2, 0.3, 0.3, 0.05, False, "holdout ECE 0.200 above")
    [early] = period_entries(frame, params, {"3": bad}, PERIOD, reveal=False)
    assert early.status == UNCALIBRATED and early.est_value_usd is None
    assert "no estimate" in (early.note or "")
    [late] = period_entries(frame, params, {"3": bad}, PERIOD, reveal=True)
    assert late.status == REALIZED and late.value_error_usd is None


def test_the_previous_champions_shadow_scores_are_a_baseline(params: Params) -> None:
    frame = _served().assign(shadow_score=lambda f: 1 - f["score"], shadow_version="2")
    [e] = period_entries(frame, params, {}, PERIOD, reveal=True)
    assert e.previous_version == "2"
    assert e.baseline_previous_usd is not None and e.baseline_previous_usd < e.value_usd  # type: ignore[operator]


def test_unknown_labels_and_missing_columns_are_named(params: Params) -> None:
    with pytest.raises(PeriodError, match="outcome values \\['Maybe'\\]"):
        period_entries(_served().assign(churn="Maybe"), params, {}, PERIOD, reveal=True)
    with pytest.raises(PeriodError, match="column 'score' is missing"):
        period_entries(_served().drop(columns="score"), params, {}, PERIOD, reveal=True)


def _tenure_served(n: int = 1000, seed: int = 4) -> pd.DataFrame:
    """A calibrated model whose churners are the short-tenure customers, as in the data."""
    rng = np.random.default_rng(seed)
    tenure = rng.integers(1, 73, n)
    p = np.clip(0.65 - tenure / 90 + rng.normal(0, 0.05, n), 0.02, 0.95)
    churn = np.where(rng.random(n) < p, "Yes", "No")
    return pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "tenure": tenure,
                         "score": p, "model_version": "3", "churn": churn})  # fmt: skip


def test_tenure_relation_gap_is_flagged_as_decay_naming_the_estimate(
    params: Params, tmp_path: Path
) -> None:
    # the estimate sees only scores; the scenario turns who churns the other way round
    from lifecycle.ingest import apply_scenario

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    cal = {"3": _calibrated(params)}
    served = _tenure_served()
    spec = params.simulation.scenarios["tenure_relation"]
    drifted = apply_scenario(served, spec, params.data, seed=7)
    assert (drifted["churn"] == "Yes").sum() == (served["churn"] == "Yes").sum()  # same base rate
    periods = {
        "as-trained": (PERIOD, served),
        "tenure_relation": (Period("sim-month_02-tenure_relation", END, END, {}), drifted),
    }
    stored = {}
    for name, (period, frame) in periods.items():
        [est] = period_entries(frame, params, cal, period, reveal=False)  # outcomes withheld
        assert est.status == ESTIMATED and not est.decay
        record(est, url)
        [real] = period_entries(frame, params, cal, period, reveal=True)  # they arrive
        stored[name] = record(real, url)
    kept = stored["as-trained"]
    assert kept.status == REALIZED and not kept.decay and kept.note is None
    gap = stored["tenure_relation"]
    assert gap.status == REALIZED and gap.decay
    assert gap.est_value_low is not None and gap.est_value_high is not None
    assert gap.value_usd is not None and gap.value_usd < gap.est_value_low
    # the note names the estimate it contradicts: its figure and interval, made before outcomes
    assert gap.note == (
        f"decay: realized {gap.value_usd:,.0f} USD is outside the estimate "
        f"{gap.est_value_usd:,.0f} USD [{gap.est_value_low:,.0f}, {gap.est_value_high:,.0f}] "
        "made before outcomes: the relation between inputs and outcome may have changed"
    )
    assert gap.value_error_usd is not None and gap.value_error_usd < 0
    assert gap.roc_auc is not None and gap.est_roc_auc is not None
    assert gap.roc_auc_error is not None and gap.roc_auc_error < -0.2  # ranks now upside down
    assert [e.decay for e in entries(url)] == [False, True]
