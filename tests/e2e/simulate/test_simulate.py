"""`lifecycle simulate` on a real service, Prefect server and worker: drift promotes, none not."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lifecycle.cli import app

pytestmark = pytest.mark.slow


def _simulate(*args: str) -> str:
    """Run the command in-process; its output (fails the test on a non-zero exit)."""
    began = time.monotonic()
    result = CliRunner().invoke(app, ["simulate", *args])
    print(f"simulate {' '.join(args)}: {time.monotonic() - began:.0f} s\n{result.output}")
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def _rows(output: str) -> list[list[str]]:
    """The table's month rows, split into cells on runs of two or more spaces."""
    import re

    lines = output.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip().startswith("month  "))
    rows = []
    for ln in lines[start + 2 :]:
        if not ln.strip():
            break
        rows.append(re.split(r"\s{2,}", ln.strip()))
    return rows


def test_concept_drift_retrains_through_the_event_and_promotes(trained: Path) -> None:
    """tenure_relation from month 2: decay, the event's retrain run on the worker promotes v2."""

    out = _simulate("--months", "3", "--scenario", "tenure_relation", "--drift-from", "2")
    rows = _rows(out)
    assert [r[0] for r in rows] == ["1", "2", "3"]
    month1, month2, month3 = rows
    assert month1[4] == "ok" and month1[5] == "no" and month1[7] == "v1"
    assert "decay" in month2[4] and month2[5] == "yes" and month2[6] == "yes"
    assert month2[7] != "v1"
    assert month3[3] == month2[7], "month 3 is served by the new champion"
    assert month3[5] == "no" and month3[7] == month2[7]
    assert float(month3[8]) > float(month2[8]) + 0.3, "the new champion ranks the new regime"
    assert float(month2[10].replace(",", "")) > 0, "the month's runs are in the ledger"
    assert (trained / "data" / "simulation" / "sim-month_02-tenure_relation.parquet").is_file()
    from lifecycle.orchestration.dvc_record import status_clean
    from lifecycle.paths import Paths

    assert status_clean(Paths(trained)), "the retrain recorded its new data version in dvc.lock"


def test_no_drift_does_not_retrain(trained: Path) -> None:
    """No scenario: every month is ok and the champion stays v1 (retrain inline, no worker)."""
    out = _simulate("--months", "3", "--scenario", "none", "--retrain", "inline")
    rows = _rows(out)
    assert len(rows) == 3
    for row in rows:
        assert row[4] == "ok", row
        assert row[5] == "no" and row[6] == "no" and row[7] == "v1", row
        assert float(row[10].replace(",", "")) > 0
    assert "no drift, retrain by inline: 0 retrain(s), 0 promotion(s)" in out


def test_without_a_worker_the_monitor_flow_retrains_itself(trained: Path) -> None:
    """--retrain inline: the same drift retrains and promotes as a subflow of the monitor flow."""
    out = _simulate("--months", "2", "--scenario", "tenure_relation", "--retrain", "inline")
    month1, month2 = _rows(out)
    assert month1[5] == "no" and month1[7] == "v1"
    assert month2[5] == "yes" and month2[6] == "yes" and month2[7] == "v2"
    assert not (trained / "data" / "simulation" / "worker.log").exists()


def test_the_same_month_twice_gives_the_same_decisions(trained_once: Path, tmp_path: Path) -> None:
    """Fresh state each time, same params and data: the same retrain and promotion decision.

    Issue 16: month 2 once retrained without promoting in CI; the figures behind the decision
    (the promotion report's reason: gain, lower bound and its distance from the margin) must be
    the same to the last digit, not only the verdict.
    """
    import json

    from tests.integration.flows.support import in_project
    from tests.support.relocate import copy_tree

    seen = []
    for attempt in ("first", "second"):
        root = copy_tree(trained_once, tmp_path / attempt) / "project"
        with in_project(root):
            out = _simulate("--months", "2", "--scenario", "tenure_relation", "--retrain", "inline")
        promotion = json.loads((root / "reports" / "promotion.json").read_text())
        decisions = [row[:10] for row in _rows(out)]  # the month's cost and seconds vary
        seen.append((decisions, promotion["promote"], promotion["reason"]))
    assert seen[0] == seen[1]
    decisions, promoted, reason = seen[0]
    assert decisions[1][5] == "yes" and decisions[1][6] == "yes" and promoted, reason
    assert "the lower bound is" in reason
