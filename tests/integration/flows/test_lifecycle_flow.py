"""The lifecycle flow end to end against a real server: results, ledger, tags, artifacts, DVC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from lifecycle.config import load_params
from tests.integration.flows.conftest import Trained
from tests.integration.flows.support import dvc, flow_run_tags, ledger_entries

pytestmark = pytest.mark.slow


def test_the_loop_promotes_a_first_champion_and_retrains_on_drift(trained: Trained) -> None:
    """Ingest -> train -> promote -> monitor (drift) -> retrain, each a typed result."""
    r = trained.result
    assert r.ingest.validated_rows == r.ingest.train_rows + r.ingest.holdout_rows > 0
    assert r.train.promoted and r.train.champion_version == "1"
    assert [f.result.name for f in r.train.fits] == ["logreg"]
    assert r.monitor.verdict in ("drift", "drift_and_decay") and r.monitor.drift
    assert r.monitor.retrain and r.retrain is not None
    assert not r.monitor.event_emitted  # the loop runs the retrain itself, not via the event
    assert r.champion_version == "1"  # same data, same params: the retrain reuses v1


def test_every_flow_run_has_a_priced_ledger_entry_with_its_staff(trained: Trained) -> None:
    """One entry per flow run, linked to its Prefect run; events charged their activities."""
    r = trained.result
    entries = {e.key: e for e in ledger_entries(trained.root)}
    for cost in r.costs:
        entry = entries[cost.ledger_key]
        assert entry.status == "succeeded" and entry.kind == "flow"
        assert entry.links["prefect_flow_run_id"]
    acts = sorted(line.activity for e in entries.values() for line in e.staff)
    assert acts == ["drift_investigation", "promotion_review", "retrain_review"]
    staff = load_params(trained.root / "params.yaml").staffing
    expected = sum(staff.roles[staff.activities[a].role] * staff.activities[a].hours for a in acts)
    assert r.total.staff_usd == pytest.approx(expected)
    assert r.total.total_usd > r.total.staff_usd
    assert entries[r.train.cost.ledger_key].links["data_version"] == r.ingest.data_version


def test_runs_are_tagged_with_stage_trigger_and_model(trained: Trained) -> None:
    """The UI can filter runs by stage, trigger and the model version they produced."""
    entries = {e.key: e for e in ledger_entries(trained.root)}
    train_run = entries[trained.result.train.cost.ledger_key].links["prefect_flow_run_id"]
    assert {"stage:train", "trigger:manual", "model:v1"} <= set(flow_run_tags(str(train_run)))
    retrain = trained.result.retrain
    assert retrain is not None
    retrain_run = entries[retrain.cost.ledger_key].links["prefect_flow_run_id"]
    assert {"stage:retrain", "trigger:drift", "model:v1"} <= set(flow_run_tags(str(retrain_run)))
    assert {"stage:lifecycle", "trigger:manual", "model:v1"} <= set(
        flow_run_tags(trained.result.flow_run_id)
    )


def test_the_parent_flow_carries_its_own_overhead_and_shows_the_whole(trained: Trained) -> None:
    """Its row opens first and holds its own part; tags and artifact show the children's too."""
    r = trained.result
    entries = {e.key: e for e in ledger_entries(trained.root)}
    parent = entries[r.cost.ledger_key]
    children = [e for e in entries.values() if e.parent_key == parent.key]
    assert {e.name for e in children} == {"ingest", "train", "monitor", "retrain"}
    assert r.retrain is not None
    assert entries[r.retrain.train.cost.ledger_key].parent_key == r.retrain.cost.ledger_key
    assert parent.started_at <= min(e.started_at for e in children)
    assert parent.usage.wall_seconds > 0 and parent.usage.cpu_seconds > 0
    # rows hold their own part, so the whole is their plain sum, each run counted once
    assert sum(e.total_usd for e in entries.values()) == pytest.approx(r.total.total_usd)
    tags = dict(t.split("=", 1) for t in flow_run_tags(r.flow_run_id) if "=" in t)
    assert float(tags["cost.total_usd"]) == pytest.approx(r.total.total_usd, abs=1e-5)
    assert float(tags["cost.own_total_usd"]) == pytest.approx(parent.total_usd, abs=1e-5)


def test_costs_land_on_the_version_produced_and_reviewed(trained: Trained) -> None:
    """A train is charged to the version it registered; the retrain review to its challenger."""
    r = trained.result
    assert r.retrain is not None
    entries = {e.key: e for e in ledger_entries(trained.root)}
    assert entries[r.train.cost.ledger_key].links["model_version"] == r.train.challenger_version
    review = entries[r.retrain.cost.ledger_key]
    assert [line.activity for line in review.staff] == ["retrain_review"]
    assert review.links["model_version"] == r.retrain.train.challenger_version


def test_artifacts_summarise_evaluation_drift_and_cost(trained: Trained) -> None:
    """Markdown and table artifacts a person reads in the UI."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    keys = [
        "evaluation-telco-churn",
        "drift-table-month-01-price-increase",
        "drift-month-01-price-increase",
        "cost-lifecycle",
    ]
    with get_client(sync_client=True) as client:
        found = {
            a.key: a
            for a in client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys))
            )
        }
    assert set(keys) <= set(found)
    evaluation = str(found["evaluation-telco-churn"].data)
    assert "Decision" in evaluation and "roc_auc" in evaluation and "/runs/" in evaluation
    rows = found["drift-table-month-01-price-increase"].data
    table = json.loads(rows) if isinstance(rows, str) else rows
    assert any(row["feature"] == "monthly_charges" and row["verdict"] == "drift" for row in table)
    assert f"{trained.result.total.total_usd:.6f}" in str(found["cost-lifecycle"].data)


def test_dvc_stays_the_version_after_a_flow_run(trained: Trained) -> None:
    """dvc status is clean, dvc repro runs no stage, MLflow's data version is DVC's hash."""
    root = trained.root
    assert json.loads(dvc(root, "status", "--json") or "{}") == {}
    out = dvc(root, "repro")
    assert "Running stage" not in out
    assert "didn't change, skipping" in out
    lock = yaml.safe_load((root / "dvc.lock").read_text())
    out = next(o for o in lock["stages"]["validate"]["outs"] if o["path"].startswith("data/valid"))
    assert _file_md5(root, out, "dataset.parquet") == trained.result.train.data_version
    assert any((root.parent / "project-remote").rglob("*.dir"))  # pushed to the remote


def _file_md5(root: Path, out: dict[str, str], name: str) -> str:
    """The md5 DVC recorded for a file: the out's own, or its entry in a folder's manifest."""
    if not out["md5"].endswith(".dir"):
        return out["md5"]
    digest = out["md5"].removesuffix(".dir")
    manifest = root / ".dvc" / "cache" / "files" / "md5" / digest[:2] / f"{digest[2:]}.dir"
    return next(f["md5"] for f in json.loads(manifest.read_text()) if f["relpath"] == name)
