"""Outcomes are written once across processes; a correction is audited and wins the join."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from lifecycle.paths import Paths
from lifecycle.predictions import feedback_dir, read_lines
from lifecycle.serve.outcomes import NoOutcomeError, OutcomeConflictError, OutcomeStore


def _post(root: str, outcome: str, ready: object) -> str:
    """One process's attempt at the same outcome (run in a child)."""
    ready.wait()  # type: ignore[attr-defined]
    try:
        OutcomeStore(Paths(Path(root))).record([{"request_id": "r", "outcome": outcome}], outcome)
    except OutcomeConflictError:
        return "conflict"
    return "written"


def test_eight_processes_racing_for_one_outcome_write_it_once(tmp_path: Path) -> None:
    """Eight worker processes post the same (request, record): one wins, seven get conflicts."""
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        ready = manager.Event()
        with ctx.Pool(8) as pool:
            jobs = [pool.apply_async(_post, (str(tmp_path), f"v{i}", ready)) for i in range(8)]
            ready.set()
            results = sorted(j.get(timeout=120) for j in jobs)
    assert results == ["conflict"] * 7 + ["written"]
    assert len(read_lines(feedback_dir(Paths(tmp_path)))) == 1


def test_a_correction_names_its_reason_and_is_audited(tmp_path: Path) -> None:
    """Old and new outcome, who and why, in order; the feed's latest line is the correction."""
    store = OutcomeStore(Paths(tmp_path))
    assert store.record([{"request_id": "r", "record": 2, "outcome": "Yes"}], "outcomes") == 1
    with pytest.raises(OutcomeConflictError, match=r"r#2.*PUT /feedback"):
        store.record([{"request_id": "r", "record": 2, "outcome": "No"}], "outcomes")
    with pytest.raises(NoOutcomeError, match="r#3"):
        store.correct("r", 3, "No", "typo", "operator")
    store.correct("r", 2, "No", "typo in the CRM", "operator")
    store.correct("r", 2, "Yes", "the typo was not one", "outcomes")
    trail = [(c.previous, c.outcome, c.reason, c.by) for c in store.history("r")]
    assert trail == [("Yes", "No", "typo in the CRM", "operator"),
                     ("No", "Yes", "the typo was not one", "outcomes")]  # fmt: skip
    feed = read_lines(feedback_dir(Paths(tmp_path))).sort_values("time")
    assert feed["outcome"].tolist() == ["Yes", "No", "Yes"]
    assert feed["correction"].fillna(False).tolist() == [False, True, True]
