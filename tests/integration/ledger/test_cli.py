"""`lifecycle ledger ...` end to end on a throw-away project: exit codes, exports, clear errors."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from lifecycle.config import Params, load_params

if TYPE_CHECKING:
    from typer.testing import Result


def _ledger(*args: str) -> Result:
    """Run `lifecycle ledger <args>` in-process (stdout and stderr kept apart)."""
    from typer.testing import CliRunner

    from lifecycle.cli import app

    return CliRunner().invoke(app, ["ledger", *args])


def _params() -> Params:
    """The tmp project's params (LIFECYCLE_PARAMS)."""
    return load_params()


def _edit_params(project: Path, section: str, value: Any) -> None:
    """Replace one section of the tmp project's params.yaml."""
    path = project / "params.yaml"
    raw = yaml.safe_load(path.read_text())
    raw[section] = value
    path.write_text(yaml.safe_dump(raw, sort_keys=False))


def _assert_clear_error(result: Result, *needles: str) -> None:
    """Exit code 2, one line on stderr naming the problem, and no traceback anywhere."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0]
    assert "Traceback" not in result.output + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)


def _seed(url: str | None = None) -> None:
    """Flows, serving and hours on fixed days: two phases, two model versions, a drift retrain."""
    from lifecycle.ledger.meter import MeteredRun, build_entry
    from lifecycle.ledger.pricing import Usage
    from lifecycle.ledger.queries import write_entry
    from lifecycle.ledger.record import log_hours, record_serving_period

    p = _params()
    flows = [  # key, name, phase, trigger, day, model version
        ("train-1", "train", "development", "manual", "2024-02-10", "1"),
        ("monitor-1", "monitor", "maintenance", "schedule", "2024-03-01", "1"),
        ("retrain-2", "retrain", "maintenance", "event", "2024-03-05", "2"),
    ]
    for key, name, phase, trigger, day, version in flows:
        run = MeteredRun(key, "flow", name, phase, trigger, p)
        run.link(model_version=version)
        start = datetime.fromisoformat(day).replace(hour=9, tzinfo=UTC)
        usage = Usage(wall_seconds=600, cpu_seconds=300, peak_memory_bytes=2**28)
        end = start + timedelta(minutes=10)
        write_entry(build_entry(run, status="succeeded", started_at=start, ended_at=end,
                                usage=usage), url)  # fmt: skip
    start = datetime(2024, 3, 2, tzinfo=UTC)
    record_serving_period(start, start + timedelta(hours=24), 5000, model_version="2",
                          run_key="serve-2", params=p, url=url)  # fmt: skip
    log_hours("data_scientist", 3.0, phase="development", day=datetime(2024, 2, 11, tzinfo=UTC),
              run_key="hours-1", params=p, url=url)  # fmt: skip


def _report_json(*args: str) -> dict[str, Any]:
    """`ledger report --format json` parsed."""
    result = _ledger("report", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert isinstance(doc, dict)
    return doc


def _keys(doc: dict[str, Any]) -> set[str]:
    """The entry keys of a JSON report."""
    return {r["key"] for r in doc["entries"]}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), {"train-1", "monitor-1", "retrain-2", "serve-2", "hours-1"}),
        (("--since", "2024-03-01"), {"monitor-1", "retrain-2", "serve-2"}),
        (("--until", "2024-02-29"), {"train-1", "hours-1"}),
        (("--flow", "retrain"), {"retrain-2"}),
        (("--phase", "development"), {"train-1", "hours-1"}),
        (("--model-version", "2"), {"retrain-2", "serve-2"}),
        (("--kind", "serving"), {"serve-2"}),
        (("--phase", "maintenance", "--model-version", "1"), {"monitor-1"}),
    ],
)
def test_report_filters_by_option(project: Path, args: Sequence[str], expected: set[str]) -> None:
    """Each option narrows the report to exactly its entries."""
    _seed()
    assert _keys(_report_json(*args)) == expected


def test_report_exports_csv_and_json_with_the_same_rows(project: Path, tmp_path: Path) -> None:
    """CSV and JSON written to files hold the same entries and money as the summary."""
    _seed()
    csv_file, json_file = tmp_path / "out.csv", tmp_path / "out.json"
    for fmt, path in (("csv", csv_file), ("json", json_file)):
        result = _ledger("report", "--format", fmt, "--output", str(path), "--phase", "maintenance")
        assert result.exit_code == 0, result.output
        assert f"wrote {path}" in result.stderr
    rows = list(csv.DictReader(io.StringIO(csv_file.read_text())))
    doc = json.loads(json_file.read_text())
    assert [r["key"] for r in rows] == [r["key"] for r in doc["entries"]]
    assert {r["key"] for r in rows} == {"monitor-1", "retrain-2"}
    total = doc["summary"]["totals"]["total_usd"]
    assert sum(float(r["total_usd"]) for r in rows) == pytest.approx(total)
    assert sum(r["total_usd"] for r in doc["entries"]) == pytest.approx(total)
    assert total > 0


def test_report_summary_carries_tco_per_1k_and_drift(project: Path) -> None:
    """The JSON summary has cost per model version, per 1,000 predictions and drift retrains."""
    from lifecycle.ledger.queries import get_entry

    _seed()
    summary = _report_json()["summary"]
    serve, retrain = get_entry("serve-2"), get_entry("retrain-2")
    assert serve is not None and retrain is not None
    assert summary["predictions"] == 5000
    assert summary["serving_usd_per_1k_predictions"] == pytest.approx(serve.total_usd / 5)
    assert summary["by_model_version"]["2"]["total_usd"] == pytest.approx(
        serve.total_usd + retrain.total_usd
    )
    assert [d["key"] for d in summary["drift_retrains"]] == ["retrain-2"]


def test_report_totals_carry_cpu_and_wall_each_run_once(project: Path) -> None:
    """summary.totals has CPU and wall seconds: every row's own part, added once."""
    _seed()
    totals = _report_json()["summary"]["totals"]
    # three flows of 600 s wall / 300 s CPU, a day of serving (no CPU), hours (no machine time)
    assert totals["cpu_seconds"] == pytest.approx(900.0)
    assert totals["wall_seconds"] == pytest.approx(3 * 600.0 + 24 * 3600.0)
    maintenance = _report_json("--phase", "maintenance")["summary"]["totals"]
    assert maintenance["cpu_seconds"] == pytest.approx(600.0)


def test_report_allocates_the_platform_beside_its_own_totals(project: Path) -> None:
    """--allocate-platform: the JSON summary keeps the platform apart and carries its shares."""
    from lifecycle.ledger.record import record_platform

    _seed()
    start = datetime(2024, 3, 1, 8, tzinfo=UTC)
    server = record_platform("prefect-server", 4242, start, start + timedelta(days=6), 60.0, 2**28)
    plain = _report_json()["summary"]
    assert plain["platform_allocation"] is None
    summary = _report_json("--allocate-platform")["summary"]
    assert summary["totals"] == plain["totals"]  # allocation moves cost, never adds it
    assert summary["platform"]["total_usd"] == pytest.approx(server.total_usd)
    alloc = summary["platform_allocation"]
    # three flows of 600 s each share the server; serving and hours take none
    assert alloc["by_name"] == pytest.approx({n: server.total_usd / 3 for n in
                                              ("train", "monitor", "retrain")})  # fmt: skip
    assert alloc["allocated_usd"] == pytest.approx(server.total_usd)
    table = _ledger("report", "--allocate-platform")
    assert table.exit_code == 0 and "unallocated (no run served) $0.0000" in table.stdout


def test_report_table_prints_entries_and_totals(project: Path) -> None:
    """The default table names the flows and the per-1,000 figure."""
    _seed()
    result = _ledger("report")
    assert result.exit_code == 0, result.output
    for needle in ("retrain", "monitor", "By phase", "Per model version", "serving cost per 1,000"):
        assert needle in result.stdout


def test_log_hours_records_priced_work(project: Path) -> None:
    """Logged hours are priced at the role's rate and show in the report."""
    rate = _params().staffing.roles["ml_engineer"]
    args = ["--role", "ml_engineer", "--hours", "2.5", "--phase", "deployment"]
    result = _ledger("log-hours", *args, "--day", "2024-05-02", "--note", "on call")
    assert result.exit_code == 0, result.output
    assert f"${2.5 * rate:,.2f}" in result.stdout
    doc = _report_json("--phase", "deployment")
    assert [(r["kind"], r["started_at"][:10]) for r in doc["entries"]] == [("human", "2024-05-02")]
    assert doc["summary"]["totals"]["staff_usd"] == pytest.approx(2.5 * rate)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("--role", "wizard", "--hours", "1", "--phase", "development"), ("role = 'wizard'",)),
        (("--role", "ml_engineer", "--hours", "-3", "--phase", "development"),
         ("hours = -3.0", ">= 0")),
        (("--role", "ml_engineer", "--hours", "1", "--phase", "holidays"),
         ("phase = 'holidays'", "maintenance")),
        (("--role", "ml_engineer", "--hours", "1", "--phase", "development", "--day", "May 2"),
         ("--day = 'May 2'", "YYYY-MM-DD")),
    ],
)  # fmt: skip
def test_log_hours_refuses_bad_input_in_one_line(
    project: Path, args: Sequence[str], needles: Sequence[str]
) -> None:
    """Unknown role, negative hours, unknown phase or a bad day: one clear line, exit 2."""
    _assert_clear_error(_ledger("log-hours", *args), *needles)
    assert _report_json()["entries"] == []


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("--phase", "holidays"), ("phase = 'holidays'",)),
        (("--kind", "rocket"), ("kind = 'rocket'",)),
        (("--since", "2024-03-02", "--until", "2024-03-01"), ("until = 2024-03-01",)),
        (("--since", "2024-13-01"), ("--since = '2024-13-01'",)),
    ],
)
def test_report_refuses_bad_filters_in_one_line(
    project: Path, args: Sequence[str], needles: Sequence[str]
) -> None:
    """A filter that cannot match anything real is an error, not an empty report."""
    _assert_clear_error(_ledger("report", *args), *needles)


def test_report_refuses_a_negative_limit(project: Path) -> None:
    """A negative row count is a usage error (it would mean no limit in SQL)."""
    result = _ledger("report", "--limit", "-1")
    assert result.exit_code == 2
    assert "--limit" in result.stderr


@pytest.mark.parametrize("command", ["estimate", "budget"])
def test_table_only_commands_refuse_csv(project: Path, command: str) -> None:
    """estimate and budget print a table or JSON; asking for CSV says so instead of a table."""
    _assert_clear_error(_ledger(command, "--format", "csv"), "--format = 'csv'", command)


@pytest.mark.parametrize("command", ["budget", "estimate", "reprice", "log-hours"])
def test_a_malformed_price_sheet_fails_every_command_clearly(project: Path, command: str) -> None:
    """A negative price stops the command with the key's path, not a traceback."""
    _edit_params(project, "prices", {"cpu_core_hour": -1})
    extra = ["--role", "ml_engineer", "--hours", "1", "--phase", "development"]
    result = _ledger(command, *(extra if command == "log-hours" else []))
    assert result.exit_code == 2, result.output
    assert "prices.cpu_core_hour" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_estimate_json_shows_actuals_beside_the_plan(project: Path) -> None:
    """Each phase's estimate sits beside what the ledger recorded for it."""
    from lifecycle.ledger.estimate import estimate

    _seed()
    result = _ledger("estimate", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {r["phase"]: r for r in json.loads(result.stdout)}
    actual = {ph: t["total_usd"] for ph, t in _report_json()["summary"]["by_phase"].items()}
    planned = {r.phase: r.total_usd for r in estimate(_params())}
    for phase, row in rows.items():
        assert row["total_usd"] == pytest.approx(planned[phase])
        assert row["actual_usd"] == pytest.approx(actual.get(phase, 0.0))
    assert rows["development"]["actual_share"] == pytest.approx(
        actual["development"] / planned["development"]
    )


def test_estimate_table_prints_every_phase_and_the_total(project: Path) -> None:
    """The table has a row per phase, a total, and the actual figure."""
    _seed()
    result = _ledger("estimate")
    assert result.exit_code == 0, result.output
    dev = _report_json("--phase", "development")["summary"]["totals"]["total_usd"]
    for needle in ("exploration", "development", "deployment", "maintenance", "total"):
        assert needle in result.stdout
    assert f"{dev:,.2f}" in result.stdout


def _budget(project: Path, maintenance_usd: float) -> None:
    """Set the maintenance budget (alert at 100%) of the tmp project."""
    _edit_params(project, "budget", {"monthly_usd": {"maintenance": maintenance_usd},
                                     "alert_share": 1.0, "lookback_days": 90})  # fmt: skip


def test_budget_fail_on_alert_exits_1_only_when_an_alert_fires(project: Path) -> None:
    """Under the line: exit 0 with the flag; past it: the alert is printed and exit is 1."""
    from lifecycle.ledger.record import log_hours

    rate = _params().staffing.roles["annotator"]
    now = datetime.now(UTC)
    for ago in (timedelta(days=29), timedelta(hours=1)):  # 29 days: past budget.min_history_days
        log_hours("annotator", 10.0, phase="maintenance", day=now - ago)
    # two 10 h entries in 29 days of history: a month is 2 x 10 h x 30.44 / 29 days' worth
    monthly = 2 * 10 * rate / 29 * 365.25 / 12
    _budget(project, monthly * 1.05)
    calm = _ledger("budget", "--fail-on-alert")
    assert calm.exit_code == 0, calm.output
    assert "ALERT" not in calm.stdout
    assert "12-month forecast: $" in calm.stdout
    _budget(project, monthly * 0.95)
    plain = _ledger("budget")
    assert plain.exit_code == 0, plain.output
    assert "ALERT" in plain.stdout and "maintenance" in plain.stdout
    loud = _ledger("budget", "--fail-on-alert")
    assert loud.exit_code == 1
    doc = json.loads(_ledger("budget", "--format", "json").stdout)
    assert doc["twelve_month_usd"] == pytest.approx(monthly * 12, rel=1e-4)  # seconds pass
    assert [p["phase"] for p in doc["phases"] if p["alert"]] == ["maintenance"]


def test_reprice_applies_a_new_price_sheet_to_stored_usage(project: Path) -> None:
    """Doubling every price doubles the ledger's compute total; hours and usage stay."""
    _seed()
    before = _report_json()["summary"]["totals"]
    raw = yaml.safe_load((project / "params.yaml").read_text())
    prices = {k: v * 2 if isinstance(v, float) and k != "storage_months" else v
              for k, v in raw["prices"].items()}  # fmt: skip
    _edit_params(project, "prices", prices)
    result = _ledger("reprice")
    assert result.exit_code == 0, result.output
    after = _report_json()["summary"]["totals"]
    assert after["compute_usd"] == pytest.approx(2 * before["compute_usd"])
    assert after["staff_usd"] == pytest.approx(before["staff_usd"])
    assert f"${before['total_usd']:,.4f} -> ${after['total_usd']:,.4f}" in result.stdout


def test_reconcile_marks_a_dead_runs_entry_as_crashed(project: Path) -> None:
    """A 'running' entry whose process is gone becomes 'crashed'; a live one is left alone."""
    import os

    from lifecycle.ledger.meter import MeteredRun, build_entry
    from lifecycle.ledger.pricing import Usage
    from lifecycle.ledger.queries import get_entry, write_entry

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    now = datetime.now(UTC)
    for key, pid in (("dead", int(gone.stdout)), ("alive", os.getpid())):
        run = MeteredRun(key, "flow", "train", "development", "manual", _params())
        entry = build_entry(run, status="running", started_at=now, ended_at=None,
                            usage=Usage(0, 0, 0))  # fmt: skip
        entry.pid = pid
        write_entry(entry)
    result = _ledger("reconcile")
    assert result.exit_code == 0, result.output
    assert "marked 1 entries as crashed" in result.stdout
    dead, alive = get_entry("dead"), get_entry("alive")
    assert dead is not None and dead.status == "crashed"
    assert alive is not None and alive.status == "running"
    assert "marked 0 entries" in _ledger("reconcile").stdout
