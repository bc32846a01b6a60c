"""stage_run: tags on entry, one priced ledger entry, the model tag and cost artifact on success."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from lifecycle.config import load_params
from lifecycle.ledger.models import LedgerEntry
from lifecycle.ledger.queries import iter_entries
from lifecycle.ledger.session import dispose_engines
from lifecycle.orchestration import stage as stage_mod
from lifecycle.orchestration.results import Cost
from lifecycle.orchestration.stage import stage_run
from lifecycle.paths import Paths

FLOW_RUN_ID = "00000000-0000-0000-0000-000000000042"


@dataclass
class Calls:
    """What the stage asked of Prefect: tags added to its run, cost artifacts, cost tags."""

    tags: list[str] = field(default_factory=list)
    published: list[tuple[str, Cost]] = field(default_factory=list)
    cost_tagged: list[LedgerEntry] = field(default_factory=list)


@pytest.fixture
def calls(project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    """A project, with Prefect's run context and API replaced by recorders."""
    seen = Calls()
    params = load_params(project / "params.yaml")
    monkeypatch.setattr(stage_mod, "setup", lambda _file: (params, Paths(project)))
    monkeypatch.setattr(stage_mod, "run_id", lambda: FLOW_RUN_ID)
    monkeypatch.setattr(stage_mod, "tag_run", lambda *tags: seen.tags.extend(tags))
    monkeypatch.setattr(
        stage_mod, "publish_cost", lambda name, cost: seen.published.append((name, cost))
    )
    monkeypatch.setattr("lifecycle.ledger.meter.tag_runs", seen.cost_tagged.append)
    yield seen
    dispose_engines()


def _entries() -> list[Any]:
    """Every entry of the project's ledger."""
    return list(iter_entries())


def test_a_stage_tags_prices_and_publishes_its_run(calls: Calls) -> None:
    """Stage and trigger tags first; one flow entry; the linked model tagged; own cost published."""
    with stage_run("train", "development", "manual", None) as stage, stage.ledger() as run:
        assert calls.tags == ["stage:train", "trigger:manual"]
        run.charge("promotion_review")
        run.link(model_version="3")
    (entry,) = _entries()
    assert (entry.kind, entry.name, entry.status) == ("flow", "train", "succeeded")
    assert entry.links["prefect_flow_run_id"] == FLOW_RUN_ID
    assert stage.cost == Cost(entry.key, entry.total_usd, entry.compute_usd, entry.staff_usd)
    assert calls.tags == ["stage:train", "trigger:manual", "model:v3"]
    assert calls.published == [("train", stage.cost)]
    assert [e.key for e in calls.cost_tagged] == [entry.key]


def test_a_failed_stage_is_priced_but_neither_tagged_with_a_model_nor_published(
    calls: Calls,
) -> None:
    """The error propagates; the entry is failed; no model tag and no cost artifact."""

    def failing_stage() -> None:
        """A stage whose work fails after linking a model."""
        with stage_run("ingest", "development", "manual", None) as stage, stage.ledger() as run:
            run.link(model_version="3")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_stage()
    (entry,) = _entries()
    assert entry.status == "failed" and "boom" in (entry.error or "")
    assert calls.tags == ["stage:ingest", "trigger:manual"]
    assert calls.published == []


def test_a_stage_priced_in_part_tags_and_publishes_what_it_is_told(calls: Calls) -> None:
    """Work outside the ledger block is not this entry's; model and published cost can be set."""
    whole = Cost("loop", 12.5, 0.5, 12.0)
    with stage_run("retrain", "maintenance", "drift", None) as stage:
        with stage.ledger():
            pass
        stage.model_version = "7"
        stage.published = whole
    assert [e.name for e in _entries()] == ["retrain"]
    assert calls.tags == ["stage:retrain", "trigger:drift", "model:v7"]
    assert calls.published == [("retrain", whole)]
