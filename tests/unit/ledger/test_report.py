"""`ledger report`: filters pick exactly their entries; exports, TCO, per-1k and drift costs."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from lifecycle.config import Params, parse_params
from lifecycle.ledger.models import LedgerEntry

# one core-hour costs $1 and memory is free, so a run's compute is its wall time in hours
UNIT_PRICES = {"cpu_core_hour": 1.0, "ram_gb_hour": 0.0, "gpu_hour": 0.0, "storage_gb_month": 0.0}
DS_RATE = 85.0
REVIEW_HOURS = 1.5


@pytest.fixture(scope="module")
def unit_params(params: Params) -> Params:
    """The project's params with round prices: 1 requested core, $1 per core-hour, free RAM."""
    raw = params.model_dump(mode="json")
    raw["prices"].update(UNIT_PRICES)
    raw["resources"] = {"default": {"cpu_cores": 1.0, "memory_gb": 0.0}, "overrides": {}}
    raw["staffing"]["roles"]["data_scientist"] = DS_RATE
    raw["staffing"]["activities"]["retrain_review"] = {
        "role": "data_scientist",
        "hours": REVIEW_HOURS,
    }
    return parse_params(raw)


@pytest.fixture
def url(tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite ledger; pooled connections closed afterwards."""
    from lifecycle.ledger.session import dispose_engines

    yield f"sqlite:///{tmp_path / 'ledger.db'}"
    dispose_engines()


def _at(day: str, hour: int = 12) -> datetime:
    """Noon (or another hour) UTC of an ISO day."""
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def _run(
    params: Params,
    url: str,
    key: str,
    *,
    name: str,
    phase: str,
    trigger: str,
    start: datetime,
    hours: float,
    model_version: str | None = None,
    charge: str | None = None,
) -> LedgerEntry:
    """Store one finished flow run with a controlled start and wall time."""
    from lifecycle.ledger.meter import MeteredRun, build_entry
    from lifecycle.ledger.pricing import Usage
    from lifecycle.ledger.queries import write_entry

    run = MeteredRun(key, "flow", name, phase, trigger, params)
    run.link(model_version=model_version)
    if charge:
        run.charge(charge)
    wall = hours * 3600
    entry = build_entry(
        run,
        status="succeeded",
        started_at=start,
        ended_at=start + timedelta(seconds=wall),
        usage=Usage(wall_seconds=wall, cpu_seconds=wall / 2, peak_memory_bytes=0),
    )
    return write_entry(entry, url)


@pytest.fixture
def seeded(unit_params: Params, url: str) -> dict[str, LedgerEntry]:
    """Flows, serving periods and logged hours across two months, phases and model versions."""
    from lifecycle.ledger.record import log_hours, record_serving_period

    p = unit_params
    out = {
        "train": _run(p, url, "train", name="train", phase="development", trigger="manual",
                      start=_at("2024-02-20"), hours=0.5, model_version="1"),
        "monitor": _run(p, url, "monitor", name="monitor", phase="maintenance",
                        trigger="schedule", start=_at("2024-03-01", 10), hours=1.0,
                        model_version="1"),
        "retrain-event": _run(p, url, "retrain-event", name="retrain", phase="maintenance",
                              trigger="event", start=_at("2024-03-05"), hours=2.0,
                              model_version="2", charge="retrain_review"),
        "retrain-drift": _run(p, url, "retrain-drift", name="retrain", phase="maintenance",
                              trigger="drift", start=_at("2024-03-10"), hours=1.0,
                              model_version="2"),
        "retrain-manual": _run(p, url, "retrain-manual", name="retrain", phase="maintenance",
                               trigger="manual", start=_at("2024-03-12"), hours=3.0,
                               model_version="2"),
    }  # fmt: skip
    out["serve-v1"] = record_serving_period(
        _at("2024-02-25", 0), _at("2024-02-25", 12), 4000, model_version="1",
        run_key="serve-v1", params=p, url=url,
    )  # fmt: skip
    out["serve-v2"] = record_serving_period(
        _at("2024-03-01", 0), _at("2024-03-02", 0), 20000, model_version="2",
        run_key="serve-v2", params=p, url=url,
    )  # fmt: skip
    out["hours"] = log_hours(
        "data_scientist", 4.0, phase="development", activity="exploration",
        day=_at("2024-02-21"), run_key="hours", params=p, url=url,
    )  # fmt: skip
    return out


def test_seeded_costs_follow_the_unit_prices(seeded: dict[str, LedgerEntry]) -> None:
    """The fixture's entries cost what the round prices say (the other tests build on this)."""
    assert seeded["monitor"].total_usd == pytest.approx(1.0)
    assert seeded["retrain-event"].total_usd == pytest.approx(2.0 + REVIEW_HOURS * DS_RATE)
    assert seeded["serve-v2"].total_usd == pytest.approx(24.0)
    assert seeded["hours"].total_usd == pytest.approx(4 * DS_RATE)


Pick = Callable[[LedgerEntry], bool]
FILTER_CASES: list[tuple[dict[str, Any], Pick]] = [
    ({}, lambda e: True),
    ({"since": date(2024, 3, 1)}, lambda e: e.started_at.date() >= date(2024, 3, 1)),
    ({"until": date(2024, 2, 29)}, lambda e: e.started_at.date() <= date(2024, 2, 29)),
    (
        {"since": date(2024, 3, 1), "until": date(2024, 3, 5)},
        lambda e: date(2024, 3, 1) <= e.started_at.date() <= date(2024, 3, 5),
    ),
    ({"name": "retrain"}, lambda e: e.name == "retrain"),
    ({"phase": "development"}, lambda e: e.phase == "development"),
    ({"phase": "maintenance"}, lambda e: e.phase == "maintenance"),
    ({"model_version": "1"}, lambda e: e.links.get("model_version") == "1"),
    ({"model_version": "2"}, lambda e: e.links.get("model_version") == "2"),
    ({"kind": "serving"}, lambda e: e.kind == "serving"),
    (
        {"phase": "maintenance", "model_version": "2", "until": date(2024, 3, 10)},
        lambda e: (
            e.phase == "maintenance"
            and e.links.get("model_version") == "2"
            and e.started_at.date() <= date(2024, 3, 10)
        ),
    ),
    ({"name": "no-such-flow"}, lambda e: False),
]


@pytest.mark.parametrize(("fields", "pick"), FILTER_CASES)
def test_filters_include_exactly_the_matching_entries(
    seeded: dict[str, LedgerEntry], url: str, fields: dict[str, Any], pick: Pick
) -> None:
    """Each filter (period, flow, phase, model version, kind) keeps its entries and no other."""
    from lifecycle.ledger.report import Filters, entry_rows, summarize

    filters = Filters(**fields)
    expected = {k for k, e in seeded.items() if pick(e)}
    assert {r["key"] for r in entry_rows(filters, url)} == expected
    totals = summarize(filters, url).totals
    assert totals.entries == len(expected)
    assert totals.total_usd == pytest.approx(sum(seeded[k].total_usd for k in expected))
    assert totals.staff_usd == pytest.approx(sum(seeded[k].staff_usd for k in expected))


def test_period_bounds_are_inclusive_days(unit_params: Params, url: str) -> None:
    """since and until keep runs from the first second of since to the last second of until."""
    from lifecycle.ledger.report import Filters, entry_rows

    first = datetime(2024, 4, 1, 0, 0, 0, tzinfo=UTC)
    last = datetime(2024, 4, 2, 23, 59, 59, tzinfo=UTC)
    for key, start in (("before", first - timedelta(seconds=1)), ("first", first),
                       ("last", last), ("after", last + timedelta(seconds=1))):  # fmt: skip
        _run(unit_params, url, key, name="m", phase="maintenance", trigger="schedule",
             start=start, hours=0.1)  # fmt: skip
    rows = entry_rows(Filters(since=date(2024, 4, 1), until=date(2024, 4, 2)), url)
    assert {r["key"] for r in rows} == {"first", "last"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"phase": "holidays"}, "phase = 'holidays'"),
        ({"kind": "rocket"}, "kind = 'rocket'"),
        ({"since": date(2024, 3, 2), "until": date(2024, 3, 1)}, "until = 2024-03-01"),
    ],
)
def test_bad_filters_are_refused_clearly(fields: dict[str, Any], message: str) -> None:
    """An unknown phase or kind, or a period ending before it starts, names the value."""
    from lifecycle.ledger.pricing import LedgerError
    from lifecycle.ledger.report import Filters

    with pytest.raises(LedgerError, match=message):
        Filters(**fields)


def test_cost_per_model_version_is_its_total_cost_of_ownership(
    seeded: dict[str, LedgerEntry], url: str
) -> None:
    """Per model version: training, monitoring, retrains, serving and staff linked to it."""
    from lifecycle.ledger.report import summarize

    by_version = summarize(url=url).by_model_version
    assert set(by_version) == {"1", "2"}
    # v1: train 0.5 h + monitor 1 h + 12 h of serving; v2: 2 + 1 + 3 h of retrains, the review,
    # and 24 h of serving
    assert by_version["1"].total_usd == pytest.approx(0.5 + 1.0 + 12.0)
    assert by_version["2"].total_usd == pytest.approx(2.0 + 1.0 + 3.0 + REVIEW_HOURS * DS_RATE + 24)
    assert by_version["2"].staff_usd == pytest.approx(REVIEW_HOURS * DS_RATE)
    assert by_version["2"].entries == 4


def test_cost_per_thousand_predictions_is_serving_cost_over_predictions(
    seeded: dict[str, LedgerEntry], url: str
) -> None:
    """Serving cost / predictions x 1,000, overall and for one model version."""
    from lifecycle.ledger.report import Filters, summarize

    overall = summarize(url=url)
    assert overall.predictions == 24000
    assert overall.serving_usd == pytest.approx(12.0 + 24.0)
    assert overall.serving_usd_per_1k_predictions == pytest.approx(36.0 / 24000 * 1000)
    assert overall.all_in_usd_per_1k_predictions == pytest.approx(
        overall.totals.total_usd / 24000 * 1000
    )
    v2 = summarize(Filters(model_version="2"), url)
    assert v2.serving_usd_per_1k_predictions == pytest.approx(24.0 / 20000 * 1000)


def test_no_predictions_means_no_cost_per_thousand(unit_params: Params, url: str) -> None:
    """Without serving there is no per-1,000 figure (not a division by zero)."""
    from lifecycle.ledger.report import summarize

    _run(unit_params, url, "m", name="m", phase="maintenance", trigger="schedule",
         start=_at("2024-03-01"), hours=1.0)  # fmt: skip
    summary = summarize(url=url)
    assert summary.predictions == 0
    assert summary.serving_usd_per_1k_predictions is None
    assert summary.all_in_usd_per_1k_predictions is None


def test_each_drift_triggered_retrain_is_listed_with_its_cost(
    seeded: dict[str, LedgerEntry], url: str
) -> None:
    """Runs started by drift (the drift event or a flow on drift) are costed one by one."""
    from lifecycle.ledger.report import Filters, summarize

    drift = summarize(url=url).drift_retrains
    assert [d.key for d in drift] == ["retrain-event", "retrain-drift"]
    assert drift[0].total_usd == pytest.approx(2.0 + REVIEW_HOURS * DS_RATE)
    assert drift[1].total_usd == pytest.approx(1.0)
    assert drift[0].model_version == "2"
    only_march_10 = summarize(Filters(since=date(2024, 3, 6)), url).drift_retrains
    assert [d.key for d in only_march_10] == ["retrain-drift"]


def test_csv_export_round_trips_the_rows_and_totals(
    seeded: dict[str, LedgerEntry], url: str
) -> None:
    """The CSV holds every filtered row with its columns; its money sums to the report's."""
    from lifecycle.ledger.report import EXPORT_COLUMNS, Filters, entry_rows, summarize, to_csv

    filters = Filters(phase="maintenance")
    rows = entry_rows(filters, url)
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert [list(r) for r in parsed[:1]] == [list(EXPORT_COLUMNS)]
    assert [r["key"] for r in parsed] == [r["key"] for r in rows]
    for got, want in zip(parsed, rows, strict=True):
        assert got == {k: "" if v is None else str(v) for k, v in want.items()}
    totals = summarize(filters, url).totals
    assert sum(float(r["total_usd"]) for r in parsed) == pytest.approx(totals.total_usd)
    assert sum(float(r["staff_usd"]) for r in parsed) == pytest.approx(totals.staff_usd)


def test_json_export_round_trips_the_rows_and_summary(
    seeded: dict[str, LedgerEntry], url: str
) -> None:
    """The JSON document holds the same rows and a summary whose totals match them."""
    from lifecycle.ledger.report import entry_rows, summarize, to_json

    rows = entry_rows(url=url)
    summary = summarize(url=url)
    doc = json.loads(to_json(rows, summary))
    assert doc["entries"] == rows
    assert doc["summary"]["totals"]["entries"] == len(seeded)
    assert doc["summary"]["totals"]["total_usd"] == pytest.approx(
        sum(e.total_usd for e in seeded.values())
    )
    assert sum(r["total_usd"] for r in doc["entries"]) == pytest.approx(
        doc["summary"]["totals"]["total_usd"]
    )
    assert doc["summary"]["by_model_version"]["2"]["total_usd"] == pytest.approx(
        summary.by_model_version["2"].total_usd
    )
    assert [d["key"] for d in doc["summary"]["drift_retrains"]] == [
        "retrain-event",
        "retrain-drift",
    ]


def test_rows_are_newest_first_and_the_limit_keeps_the_newest(
    seeded: dict[str, LedgerEntry], url: str
) -> None:
    """The table shows the most recent entries; a limit cuts the oldest."""
    from lifecycle.ledger.report import entry_rows

    rows = entry_rows(url=url, limit=3)
    newest = sorted(seeded.values(), key=lambda e: e.started_at, reverse=True)[:3]
    assert [r["key"] for r in rows] == [e.key for e in newest]


def test_render_prints_the_groups_and_per_thousand(
    seeded: dict[str, LedgerEntry], url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The terminal report shows the model versions, the per-1,000 cost and drift retrains."""
    from lifecycle.ledger.report import entry_rows, render, summarize

    summary = summarize(url=url)
    render(entry_rows(url=url), summary)
    out = capsys.readouterr().out
    assert "Per model version" in out
    assert f"${summary.serving_usd_per_1k_predictions:.4f}" in out
    assert "Drift-triggered retrain" in out
    assert f"${summary.totals.total_usd:.2f}" in out
