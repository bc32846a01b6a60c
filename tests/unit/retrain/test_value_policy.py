"""decide_retrain with value.retrain_policy: value: the value guard's figures in every decision."""

from __future__ import annotations

import pandas as pd

from lifecycle.config import Params
from lifecycle.ingest import apply_scenario
from lifecycle.monitor.check import check_drift
from lifecycle.retrain import decide_retrain
from lifecycle.value.policy import ValueVerdict
from tests.unit.retrain.test_policy import Guard


def test_decide_retrain_states_the_value_figures_or_blocks_with_them(
    params: Params, reference: pd.DataFrame, batch: pd.DataFrame
) -> None:
    scenario = params.simulation.scenarios["price_increase"]
    report = check_drift(reference, apply_scenario(batch, scenario, params.data, 3), params, "m1")
    value_on = params.model_copy(
        update={"value": params.value.model_copy(update={"retrain_policy": "value"})}
    )
    no = ValueVerdict(False, "value: not worth it yet: v1: 0 of its last 3 window(s) violate")
    blocked = decide_retrain(report, 10_000, value_on, Guard(True), value_guard=lambda p: no)
    assert not blocked.retrain and "but value: not worth it yet" in (blocked.alert or "")
    assert blocked.triggers == ("drift",)
    yes = ValueVerdict(True, "value: worth it: v1: 2 of its last 3 window(s) violate")
    go = decide_retrain(report, 10_000, value_on, Guard(True), value_guard=lambda p: yes)
    assert go.retrain and yes.reason in go.reasons
    # the policy is off by default: the value guard is not asked, the triggers decide as before
    assert decide_retrain(report, 10_000, params, Guard(True), value_guard=lambda p: no).retrain
