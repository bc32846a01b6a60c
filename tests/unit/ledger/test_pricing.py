"""Pricing follows OpenCost's max(requested, used) rule; bad input gets clear errors."""

from __future__ import annotations

import pytest

from lifecycle.config import ConfigError, Params, PriceSheet, ResourceRequest, parse_params
from lifecycle.ledger.estimate import estimate
from lifecycle.ledger.meter import metered
from lifecycle.ledger.pricing import GB, LedgerError, Usage, price_compute, staff_line

PRICES = PriceSheet()


def test_request_above_use_is_charged_at_the_request() -> None:
    """An idle run still pays for the cores and memory it reserved."""
    usage = Usage(wall_seconds=3600, cpu_seconds=360, peak_memory_bytes=GB // 2)
    cost = price_compute(usage, ResourceRequest(cpu_cores=2, memory_gb=4), PRICES)
    assert cost.cpu_usd == pytest.approx(2 * 0.031611)
    assert cost.ram_usd == pytest.approx(4 * 0.004237)
    assert cost.gpu_usd == 0


def test_use_above_request_is_charged_at_the_use() -> None:
    """A run that used more than it asked for pays for what it used."""
    usage = Usage(
        wall_seconds=1800, cpu_seconds=3 * 1800, peak_memory_bytes=8 * GB, gpu_seconds=1800
    )
    cost = price_compute(usage, ResourceRequest(cpu_cores=1, memory_gb=2), PRICES)
    assert cost.cpu_usd == pytest.approx(3 * 0.5 * 0.031611)
    assert cost.ram_usd == pytest.approx(8 * 0.5 * 0.004237)
    assert cost.gpu_usd == pytest.approx(1 * 0.5 * 0.95)


def test_storage_growth_is_priced_per_gb_month() -> None:
    """Bytes a run adds cost the storage price for the months each entry pays for."""
    sheet = PriceSheet(storage_gb_month=0.1, storage_months=2)
    usage = Usage(wall_seconds=0, cpu_seconds=0, peak_memory_bytes=0, storage_bytes=3 * GB)
    assert price_compute(usage, ResourceRequest(cpu_cores=0, memory_gb=0), sheet).compute_usd == (
        pytest.approx(0.6)
    )


def test_activity_is_priced_at_its_role_rate(params: Params) -> None:
    """An activity from params charges its hours at its role's rate."""
    line = staff_line("promotion_review", params.staffing)
    act = params.staffing.activities["promotion_review"]
    assert line.usd == pytest.approx(act.hours * params.staffing.roles[act.role])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"activity": "dance"}, "activity = 'dance'"),
        ({"activity": "x", "role": "wizard", "hours": 1.0}, "role = 'wizard'"),
        ({"activity": "x", "role": "ml_engineer", "hours": -2.0}, "hours = -2.0: must be"),
        ({"activity": "x", "role": "ml_engineer", "hours": float("nan")}, "hours = nan"),
    ],
)
def test_bad_staffing_input_is_refused(params: Params, kwargs: dict, message: str) -> None:
    """Unknown activity or role and negative hours name the field, the value and the rule."""
    activity = kwargs.pop("activity")
    with pytest.raises(LedgerError, match=message):
        staff_line(activity, params.staffing, **kwargs)


@pytest.mark.parametrize(
    ("section", "value", "message"),
    [
        ("prices", {"cpu_core_hour": -1}, r"prices\.cpu_core_hour = -1"),
        ("prices", {"cpu_core_hour": "cheap"}, r"prices\.cpu_core_hour = 'cheap'"),
        ("prices", {"cpu_per_hour": 0.1}, r"prices\.cpu_per_hour"),
        ("prices", [0.03, 0.004], r"prices = \[0\.03, 0\.004\]"),
        ("staffing", {"roles": {"a": 1.0}, "activities": {"b": {"role": "c", "hours": 1}}}, "c"),
        ("staffing", {"roles": {"a": -5.0}}, r"staffing\.roles\.a = -5\.0"),
        ("budget", {"monthly_usd": {"holidays": 10}}, r"budget\.monthly_usd\.holidays"),
        ("estimate", {"months": {"development": 13}}, "at most 12"),
    ],
)
def test_malformed_ledger_params_fail_clearly(
    params: Params, section: str, value: object, message: str
) -> None:
    """A bad price sheet, staffing, budget or estimate fails at load with its path."""
    raw = params.model_dump(mode="json")
    raw[section] = value
    with pytest.raises(ConfigError, match=message):
        parse_params(raw)


def test_resources_pick_the_most_specific_request(params: Params) -> None:
    """'kind:name' beats 'name' beats 'kind' beats the default."""
    res = params.resources
    assert res.request_for("dvc_stage", "train") == res.overrides["train"]
    assert res.request_for("dvc_stage", "ingest") == res.overrides["dvc_stage"]
    assert res.request_for("job", "nothing") == res.default


@pytest.mark.parametrize(
    ("kind", "phase", "trigger", "message"),
    [
        ("flow", "fun", "manual", "phase = 'fun'"),
        ("rocket", "development", "manual", "kind = 'rocket'"),
        ("flow", "development", "whim", "trigger = 'whim'"),
    ],
)
def test_metered_refuses_unknown_names_before_running(
    params: Params, kind: str, phase: str, trigger: str, message: str
) -> None:
    """The block never runs when the entry could not be recorded."""
    ran = []
    with (
        pytest.raises(LedgerError, match=message),
        metered(kind, "x", phase, trigger, params=params, url="sqlite://"),
    ):
        ran.append(1)
    assert ran == []


def test_estimate_adds_up_by_phase(params: Params) -> None:
    """Staff cost is FTE x rate x hours x months; acquisition lands in the first phase."""
    rows = {r.phase: r for r in estimate(params, {"exploration": 100.0})}
    est, rates = params.estimate, params.staffing.roles
    expected = sum(
        fte * rates[role] * est.hours_per_month * est.months["development"]
        for role, fte in est.team["development"].items()
    )
    assert rows["development"].staff_usd == pytest.approx(expected)
    assert rows["exploration"].data_usd == pytest.approx(
        est.data_acquisition_usd + est.labelling_usd_per_month * est.months["exploration"]
    )
    assert rows["maintenance"].retrain_usd > 0
    assert rows["exploration"].actual_usd == 100.0
    assert rows["development"].actual_usd == 0.0


def test_estimate_refuses_an_unknown_role(params: Params) -> None:
    """A team member whose role has no rate cannot be priced."""
    raw = params.model_dump(mode="json")
    raw["estimate"]["team"]["development"]["astronaut"] = 1.0
    with pytest.raises(LedgerError, match=r"estimate\.team\.development\.astronaut"):
        estimate(parse_params(raw))
