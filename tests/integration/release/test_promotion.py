"""Promotion through staging to production, with and without a required approval."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

import pytest

from lifecycle.config import Params
from lifecycle.environments import AUTO, ReleaseError, approve, version_in
from lifecycle.evaluate import evaluate
from lifecycle.paths import Paths
from lifecycle.promote import apply_decision
from lifecycle.registry import PREVIOUS, client, version_by_alias
from lifecycle.train import train

pytestmark = pytest.mark.slow

Make = Callable[..., tuple[Params, Paths]]


def test_production_waits_for_an_approval(release_project: Make) -> None:
    params, paths = release_project(release={"production": {"requires_approval": True}})
    name = params.mlflow.model_name
    first = train(params, paths)
    decision = evaluate(params, paths)
    assert decision.promote, decision.reason
    assert decision.fairness is not None and decision.fairness["passed"]
    assert decision.importance and decision.importance[0]["feature"] in params.data.features

    # the gates passed: staging gets it, production (champion) stays empty
    apply_decision(decision, params, paths)  # returns str(champion): "None" here
    assert version_in(params, paths, "staging") == first.version
    assert version_in(params, paths, "production") is None
    c = client(paths)
    assert c.get_model_version(name, first.version).tags["promotion.decision"] == "staged"
    report = json.loads(paths.promotion.read_text())
    assert report["champion_after"] is None and report["fairness"]["passed"]
    assert [i["feature"] for i in report["importance"]] == [
        i["feature"] for i in decision.importance
    ]

    with pytest.raises(ReleaseError, match="approver's name"):
        approve(params, paths, first.version, "  ")
    with pytest.raises(ReleaseError, match="v99 is not on staging"):
        approve(params, paths, "99", "alice")
    assert version_in(params, paths, "production") is None

    done = approve(params, paths, first.version, "Alice Martin", note="campaign Q3")
    assert version_in(params, paths, "production") == first.version
    assert done.by == "Alice Martin" and done.previous is None
    mv = c.get_model_version(name, first.version)
    assert mv.tags["approved_by"] == "Alice Martin"
    assert mv.tags["approved_at"] == done.at and mv.tags["approval_note"] == "campaign Q3"
    assert "approved for production (@champion) by Alice Martin" in (mv.description or "")
    assert c.get_run(mv.run_id).data.tags["release.approved_by"] == "Alice Martin"

    # the review is charged to the ledger: one job entry with the promotion_review activity
    from lifecycle.ledger.queries import iter_entries

    entries = [e for e in iter_entries() if e.name == "approve"]
    assert len(entries) == 1 and entries[0].key == done.ledger_key
    assert entries[0].links["model_version"] == first.version
    staff = entries[0].staff
    assert [s.activity for s in staff] == ["promotion_review"]
    assert staff[0].hours == params.staffing.activities["promotion_review"].hours


def test_gated_challenger_goes_straight_through_without_required_approval(
    release_project: Make,
) -> None:
    params, paths = release_project()
    assert not params.release.production.requires_approval
    name = params.mlflow.model_name
    first = train(params, paths)
    assert apply_decision(evaluate(params, paths), params, paths) == first.version
    assert version_in(params, paths, "staging") == first.version
    assert version_in(params, paths, "production") == first.version
    tags = client(paths).get_model_version(name, first.version).tags
    assert tags["approved_by"] == AUTO and tags["promotion.decision"] == "promoted"
    from lifecycle.ledger.queries import iter_entries

    assert not [e for e in iter_entries() if e.name == "approve"]  # nobody reviewed: no charge

    # a second, different model: staged and approved automatically, the first kept as previous
    params2, _ = release_project(
        train={"candidates": [{"name": "forest", "family": "random_forest",
                               "params": {"n_estimators": 60, "min_samples_leaf": 5}}]},
    )  # fmt: skip
    second = train(params2, paths)
    assert second.version != first.version
    # a negative margin is refused at load now (issue 16): the decision is forced instead
    forced = replace(evaluate(params2, paths), promote=True)
    assert apply_decision(forced, params2, paths) == second.version
    found = version_by_alias(paths, name, PREVIOUS)
    assert found is not None and str(found.version) == first.version

    # rolled back, the same challenger is never released again by the loop: blocked, said why
    from lifecycle.registry import rollback

    rollback(paths, name)
    assert version_in(params, paths, "production") == first.version
    again = replace(evaluate(params2, paths), promote=True)
    assert apply_decision(again, params2, paths) == first.version
    assert version_in(params, paths, "production") == first.version
    tags = client(paths).get_model_version(name, second.version).tags
    assert tags["promotion.decision"] == "blocked"
    assert "it was rolled back" in tags["promotion.reason"]
    report = json.loads(paths.promotion.read_text())
    assert report["promote"] is False and "--override-rollback" in report["reason"]
