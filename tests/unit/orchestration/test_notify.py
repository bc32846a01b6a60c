"""Notices: which kind a failure is, when a run passes the budget, what the message carries."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.config import ConfigError, load_params
from lifecycle.orchestration.notify import (
    Notice,
    crossed_budget,
    describe,
    failure_kind,
    trigger_for,
    webhook_answers,
)
from lifecycle.paths import Paths
from lifecycle.system import free_port
from lifecycle.validate import ValidationFailedError


def test_a_quarantined_batch_is_its_own_kind_other_errors_a_failed_flow() -> None:
    """Validation's error is a quarantine notice; anything else a failed flow."""
    quarantined = ValidationFailedError.__new__(ValidationFailedError)
    RuntimeError.__init__(quarantined, "batch 'm1' failed validation")
    assert failure_kind(quarantined) == "batch_quarantined"
    assert failure_kind(RuntimeError("boom")) == "flow_failed"
    assert describe(RuntimeError("boom\nmore")) == "RuntimeError: boom"


@pytest.mark.parametrize(
    ("after", "run", "budget", "crossed"),
    [(12.0, 3.0, 10.0, True), (9.0, 3.0, 10.0, False), (15.0, 3.0, 10.0, False),
     (10.0, 0.0, 10.0, False), (12.0, 3.0, None, False)],
)  # fmt: skip
def test_the_budget_notice_goes_out_once_when_a_run_crosses_it(
    after: float, run: float, budget: float | None, crossed: bool
) -> None:
    """Only the run that takes the month's spend from at-or-below to above the budget."""
    assert crossed_budget(after, run, budget) is crossed


def test_the_payload_names_flow_run_url_reason_and_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same keys for every kind, the run's UI page from PREFECT_UI_URL."""
    monkeypatch.setenv("PREFECT_UI_URL", "http://ui.example:4200/")
    body = Notice("drift", "monitor", "drift in 2024-01", 0.01234, "abc").payload()
    assert body == {
        "flow": "monitor",
        "run_id": "abc",
        "run_url": "http://ui.example:4200/runs/flow-run/abc",
        "reason": "drift in 2024-01",
        "cost_usd": "0.0123",
    }


def test_triggers_match_this_project_only(tmp_path: Path) -> None:
    """Two projects on one server do not page each other; a crash matches the project's tag."""
    one, two = Paths(tmp_path / "one"), Paths(tmp_path / "two")
    a, b = trigger_for("drift", one), trigger_for("drift", two)
    assert a.expect == {"lifecycle.notice.drift"}
    assert a.match != b.match
    crash = trigger_for("flow_crashed", one)
    assert crash.expect == {"prefect.flow-run.Crashed"}


def test_an_unreachable_webhook_is_reported_not_raised() -> None:
    """Nothing listens on a fresh free port: False, no exception."""
    assert webhook_answers(f"http://127.0.0.1:{free_port()}/hook", timeout=1.0) is False
    assert webhook_answers("not a url") is False


def test_an_unknown_or_repeated_notice_kind_fails_at_load(project: Path) -> None:
    """A typo in notifications.events names the key and the value."""
    text = (project / "params.yaml").read_text()
    bad = text + "\nnotifications:\n  events: [flow_failed, drift_detected]\n"
    (project / "params.yaml").write_text(bad)
    with pytest.raises(ConfigError, match=r"notifications\.events"):
        load_params(project / "params.yaml")
    (project / "params.yaml").write_text(text + "\nnotifications:\n  events: [drift, drift]\n")
    with pytest.raises(ConfigError, match="repeats"):
        load_params(project / "params.yaml")
