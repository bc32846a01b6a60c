"""Net value per version and month, retrain ROI and the verdict lines, against a real ledger."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lifecycle.config import Params
from lifecycle.ledger.models import LedgerEntry
from lifecycle.ledger.pricing import ComputeCost, Usage
from lifecycle.ledger.queries import write_entry
from lifecycle.value.net import value_report
from lifecycle.value.store import ESTIMATED, REALIZED, ValueEntry, entries, record


def _cost(url: str, key: str, version: str, when: datetime, usd: float, **kw: str) -> None:
    write_entry(LedgerEntry(
        key=key, kind=kw.get("kind", "serving"), name=kw.get("name", "api"), phase="deployment",
        trigger="manual", status="succeeded", started_at=when, ended_at=when,
        usage=Usage(60.0, 1.0, 0), request_cpu_cores=1.0, request_memory_gb=1.0,
        links={"model_version": version}, cost=ComputeCost(usd, 0.0, 0.0, 0.0),
        parent_key=kw.get("parent"),
    ), url)  # fmt: skip


def _value(period: str, version: str, when: datetime, usd: float, **kw: object) -> ValueEntry:
    return ValueEntry(
        model_name="telco-churn", period=period, period_start=when, period_end=when,
        model_version=version, status=str(kw.get("status", REALIZED)), rows=500,
        labelled_rows=500, contacted=100, calibration="none",
        value_usd=usd if kw.get("status", REALIZED) == REALIZED else None,
        est_value_usd=usd, baseline_previous_usd=kw.get("previous"),  # type: ignore[arg-type]
        previous_version="1" if kw.get("previous") is not None else None,
    )  # fmt: skip


SEP, OCT, NOV = (datetime(2026, m, 5, tzinfo=UTC) for m in (9, 10, 11))


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A ledger with two versions' costs, their value, a won and a lost retrain."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    _cost(url, "train-1", "1", SEP, 100.0, kind="flow", name="train")
    _cost(url, "serve-1", "1", OCT, 50.0)
    _cost(url, "retrain-a", "2", OCT, 40.0, kind="flow", name="retrain")
    _cost(url, "retrain-a-train", "2", OCT, 20.0, kind="flow", name="train", parent="retrain-a")
    _cost(url, "retrain-b", "3", NOV, 30.0, kind="flow", name="retrain")
    _cost(url, "serve-2", "2", NOV, 9000.0)
    for e in (_value("m1", "1", SEP, 3000.0), _value("m2", "1", OCT, 2500.0),
              _value("m3", "2", NOV, 4000.0, previous=2000.0),
              _value("m4", "2", NOV, 3900.0, status=ESTIMATED)):  # fmt: skip
        record(e, url)
    return url


def test_months_net_roi_and_cumulative(url: str) -> None:
    rep = value_report(list(entries(url)), url)
    got = {(m.version, m.month): m for m in rep.months}
    assert got["1", "2026-09"].net_usd == pytest.approx(2900.0)
    assert got["1", "2026-10"].net_usd == pytest.approx(2450.0)
    assert got["1", "2026-10"].cumulative_net_usd == pytest.approx(5350.0)
    assert got["1", "2026-10"].roi == pytest.approx(2450.0 / 50.0)
    nov = got["2", "2026-11"]
    assert (nov.realized_usd, nov.estimated_usd, nov.estimated) == (4000.0, 3900.0, True)
    assert got["2", "2026-10"].cost_usd == pytest.approx(60.0)  # the retrain that made v2
    assert got["3", "2026-11"].periods == 0


def test_retrain_roi_and_the_lost_challenger(url: str) -> None:
    won, lost = value_report(list(entries(url)), url).retrains
    assert (won.challenger, won.replaced, won.cost_usd) == ("2", "1", pytest.approx(60.0))
    assert won.uplift_usd_per_period == pytest.approx(2000.0)  # shadow: same customers
    assert won.payback_periods == pytest.approx(0.03)
    assert "same customers" in won.basis
    assert (lost.challenger, lost.served, lost.uplift_usd_per_period) == ("3", False, None)
    assert "never served" in lost.basis


def test_verdicts(url: str) -> None:
    lines = value_report(list(entries(url)), url).verdicts
    assert lines["1"] == "v1 earns 2,675 USD a month net of its costs"
    assert lines["2"] == "v2 costs more than it earns since 2026-11 (partly estimated)"
    assert lines["3"] == "v3 never served: it cost 30.00 USD and earned nothing"


def test_cli_prints_verdicts_table_and_json(url: str, params: Params) -> None:
    from lifecycle.cli import app

    run = CliRunner().invoke(app, ["ledger", "value", "--url", url])
    assert run.exit_code == 0, run.output
    assert "v1 earns 2,675 USD a month net of its costs" in run.output
    assert "cumulative net" in run.output and "retrain started" in run.output
    one = CliRunner().invoke(app, ["ledger", "value", "--url", url, "--format", "json",
                                   "--model-version", "2"])  # fmt: skip
    data = json.loads(one.output)
    assert {m["version"] for m in data["months"]} == {"2"}
    assert list(data["verdicts"]) == ["2"]
    empty = CliRunner().invoke(app, ["ledger", "value", "--url", url, "--format", "csv"])
    assert empty.exit_code == 2 and "prints 'table' or 'json'" in empty.output
