"""Platform cost shared out pro rata by wall time, each platform among the runs it serves."""

from __future__ import annotations

import pytest

from lifecycle.ledger.allocate import Run, allocate, served_kinds

RUNS = [
    Run("train", "flow", "development", "2", 300.0),
    Run("fit-candidate", "task", "development", "2", 100.0),
    Run("monitor", "flow", "maintenance", "1", 600.0),
    Run("api", "serving", "deployment", "1", 3000.0),
    Run("train", "dvc_stage", "development", None, 1000.0),
]


def test_the_prefect_server_is_shared_by_flow_and_task_runs_by_wall_time() -> None:
    """$10 over 1,000 s of flows and tasks: $3 train, $1 its task, $6 monitor; none to serving."""
    out = allocate([("platform-prefect-server", 10.0)], RUNS)
    assert out.by_name == pytest.approx({"train": 3.0, "fit-candidate": 1.0, "monitor": 6.0})
    assert out.by_phase == pytest.approx({"development": 4.0, "maintenance": 6.0})
    assert out.by_model_version == pytest.approx({"2": 4.0, "1": 6.0})
    assert out.allocated_usd == pytest.approx(10.0) and out.unallocated_usd == 0.0


def test_the_service_is_shared_by_its_serving_periods_only() -> None:
    """The service's start-up cost goes to serving, never to a training flow."""
    out = allocate([("platform-service", 2.0)], RUNS)
    assert out.by_name == pytest.approx({"api": 2.0})
    assert out.by_model_version == pytest.approx({"1": 2.0})


def test_any_other_platform_is_shared_by_every_machine_run() -> None:
    """The MLflow UI serves everyone: all 5,000 machine seconds share it (DVC stages too)."""
    assert served_kinds("platform-mlflow-ui") == ("flow", "task", "dvc_stage", "job", "serving")
    out = allocate([("platform-mlflow-ui", 5.0)], RUNS)
    assert out.by_name == pytest.approx(
        {"train": 0.3 + 1.0, "fit-candidate": 0.1, "monitor": 0.6, "api": 3.0}
    )
    assert sum(out.by_name.values()) == pytest.approx(5.0)


def test_a_platform_with_no_run_to_serve_stays_unallocated() -> None:
    """Nothing is invented: a server with no flow in the period is reported as unallocated."""
    serving_only = [r for r in RUNS if r.kind == "serving"]
    out = allocate([("platform-prefect-server", 4.0), ("platform-service", 1.0)], serving_only)
    assert out.platform_usd == pytest.approx(5.0)
    assert out.unallocated_usd == pytest.approx(4.0) and out.allocated_usd == pytest.approx(1.0)
    assert out.by_platform == pytest.approx({"prefect-server": 4.0, "service": 1.0})


def test_runs_of_zero_wall_take_no_share() -> None:
    """A run without machine time (wall 0) gets no part of the platform."""
    runs = [Run("a", "flow", "development", None, 0.0), Run("b", "flow", "development", None, 10.0)]
    out = allocate([("platform-worker", 1.0)], runs)
    assert out.by_name == pytest.approx({"b": 1.0})
