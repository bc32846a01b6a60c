"""One service, every use case's champion: /use-cases/<name>/predict beside the default routes.

A second use case ("twin") gets its own registered model (a version of the trained run's model
under its own name, champion) and its own params (its own threshold), so what answers is
provably that use case's model, schema, threshold and prediction log.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.integration.serve.conftest import environment, wait_ready
from tests.integration.serve.project import Project, copy_project
from tests.support.project import repo_params_raw

TWIN = "twin"
TWIN_THRESHOLD = 0.05  # far below the default's: its labels differ where scores fall between


def _use_case(root: Path, name: str, threshold: float | None = None, **serving: Any) -> None:
    """use_cases/<name>/params.yaml: the root's params with its own model and experiment."""
    raw = repo_params_raw()
    raw["mlflow"]["model_name"] = raw["mlflow"]["experiment"] = name
    raw["serving"].update(serving)
    if threshold is not None:
        raw["serving"]["threshold"] = threshold
    folder = root / "use_cases" / name
    folder.mkdir(parents=True)
    (folder / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))


def _register_champion(project: Project, name: str) -> str:
    """The trained run's model registered under `name`, its version made champion."""
    import mlflow

    from lifecycle.paths import Paths
    from lifecycle.registry import client

    with environment(project.env):
        c = client(Paths(project.root))
        mv = mlflow.register_model(f"runs:/{project.run_id}/model", name)
        c.set_registered_model_alias(name, "champion", str(mv.version))
    return str(mv.version)


@pytest.fixture(scope="module")
def two_cases(serving_template: Project, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A copy of the trained project holding two more use cases: twin (a champion of its own)
    and bare (params, no model yet)."""
    project = copy_project(serving_template, tmp_path_factory.mktemp("use-cases") / "project")
    _use_case(project.root, TWIN, TWIN_THRESHOLD)
    _use_case(project.root, "bare")
    _register_champion(project, TWIN)
    return project


@pytest.fixture
def app_client(two_cases: Project, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The service of the project's default use case, started as in production."""
    from lifecycle.paths import Paths
    from lifecycle.serve.app import create_app
    from lifecycle.serve.state import ServeSettings

    for key, value in two_cases.env.items():
        monkeypatch.setenv(key, value)
    settings = ServeSettings(two_cases.params, Paths(two_cases.root), "secret")
    with TestClient(create_app(settings)) as c:
        wait_ready(c)
        yield c


def _records(project: Project, n: int) -> list[dict[str, object]]:
    """Holdout rows as API records (nulls as None)."""
    import pandas as pd

    frame = pd.read_parquet(project.root / "data" / "processed" / "holdout.parquet")
    feats = frame[list(project.params.data.features)].astype(object)
    feats = feats.where(feats.notna(), None)
    return [{str(k): v for k, v in r.items()} for r in feats.head(n).to_dict("records")]


def _log_lines(folder: Path) -> int:
    """Lines in a prediction log folder (0 when it does not exist)."""
    return sum(len(p.read_bytes().splitlines()) for p in folder.rglob("*.jsonl"))


@pytest.mark.slow
def test_each_use_case_answers_with_its_own_model_threshold_and_log(
    app_client: TestClient, two_cases: Project
) -> None:
    """twin: its own model name and threshold, its own log; the default routes unchanged."""
    rows = _records(two_cases, 40)
    root_log = two_cases.root / "data" / "predictions"
    twin_log = two_cases.root / "use_cases" / TWIN / "data" / "predictions"
    before = _log_lines(root_log)
    default = app_client.post("/predict", json=rows)
    assert default.status_code == 200, default.text
    mid = _log_lines(root_log)
    twin = app_client.post(f"/use-cases/{TWIN}/predict", json=rows)
    assert twin.status_code == 200, twin.text
    same = app_client.post("/use-cases/default/predict", json=rows)
    assert same.status_code == 200, same.text
    d, t, s = default.json(), twin.json(), same.json()
    assert t["model_version"] == "1" and twin.headers["X-Model-Version"] == "1"
    d_scores = [p["score"] for p in d["predictions"]]
    assert [p["score"] for p in t["predictions"]] == pytest.approx(d_scores)
    assert [p["score"] for p in s["predictions"]] == pytest.approx(d_scores)
    positive = two_cases.params.data.positive_label
    assert all((p["label"] == positive) == (p["score"] >= TWIN_THRESHOLD) for p in t["predictions"])
    assert [p["label"] for p in t["predictions"]] != [p["label"] for p in d["predictions"]]
    assert _log_lines(twin_log) == len(rows)  # durable before the answer left
    assert mid > before and _log_lines(root_log) == mid + len(rows)  # default: /predict twice
    listed = app_client.get("/use-cases").json()["use_cases"]
    assert [(u["name"], u["model_version"]) for u in listed] == [
        ("default", "1"), ("bare", None), (TWIN, "1"),
    ]  # fmt: skip


@pytest.mark.slow
def test_unknown_unready_and_invalid_use_cases_are_clear_errors(
    app_client: TestClient, two_cases: Project
) -> None:
    """No such use case 404; no champion yet 503 naming why; a bad record 422; bad name 422."""
    rows = _records(two_cases, 2)
    missing = app_client.post("/use-cases/nope/predict", json=rows)
    assert missing.status_code == 404 and "use case 'nope'" in missing.json()["detail"]
    bare = app_client.post("/use-cases/bare/predict", json=rows)
    assert bare.status_code == 503
    assert "'bare' has no version with alias 'champion'" in bare.json()["detail"]
    column = two_cases.params.data.numeric[0]
    bad = app_client.post(f"/use-cases/{TWIN}/predict", json=[{**rows[0], column: "x"}])
    assert bad.status_code == 422 and column in bad.text
    assert app_client.post("/use-cases/Bad Name/predict", json=rows).status_code == 422
    assert app_client.post("/predict", json=rows).status_code == 200  # the service is fine


@pytest.mark.slow
def test_the_portfolio_reads_each_champion_from_the_shared_registry(
    two_cases: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Champion version and age per use case from the real MLflow store; none for bare."""
    from lifecycle.portfolio import portfolio_rows

    for key, value in two_cases.env.items():
        monkeypatch.setenv(key, value)
    url = two_cases.env["LIFECYCLE_LEDGER_URL"]
    rows = {r.name: r.health for r in portfolio_rows(two_cases.root, two_cases.params, url)}
    assert list(rows) == ["default", "bare", TWIN]
    assert (rows["default"].champion_version, rows[TWIN].champion_version) == ("1", "1")
    assert rows["bare"].champion_version is None and rows["bare"].champion_days is None
    age = rows[TWIN].champion_days
    assert age is not None and 0 <= age < 1  # registered during this test session


@pytest.mark.slow
def test_each_use_case_served_has_a_serving_row_of_its_own(
    app_client: TestClient, two_cases: Project
) -> None:
    """One service, two use cases: two ledger rows, the period split by their predictions."""
    import os

    from lifecycle.ledger.queries import iter_entries

    rows = _records(two_cases, 30)
    assert app_client.post("/predict", json=rows[:10]).status_code == 200
    assert app_client.post(f"/use-cases/{TWIN}/predict", json=rows).status_code == 200
    service = app_client.app.state.service  # type: ignore[attr-defined]
    service.record_period(False)  # as the meter does every ledger_update_seconds
    key = f"serving:api:{os.getpid()}:{service.period_start.isoformat()}"
    found = {
        e.use_case: e
        for e in iter_entries(two_cases.env["LIFECYCLE_LEDGER_URL"])
        if e.key in (key, f"{key}:{TWIN}")
    }
    assert {n: e.predictions for n, e in found.items()} == {"default": 10, TWIN: 30}
    main, twin = found["default"], found[TWIN]
    assert (main.links["model_version"], twin.links["model_version"]) == ("1", "1")
    assert twin.usage.wall_seconds == pytest.approx(3 * main.usage.wall_seconds, rel=1e-6)
    assert twin.usage.cpu_seconds == pytest.approx(3 * main.usage.cpu_seconds, rel=1e-6)


@pytest.mark.slow
def test_each_use_case_takes_its_own_outcomes_and_shows_its_own_card(
    app_client: TestClient, two_cases: Project
) -> None:
    """twin's outcomes go to twin's store (joined to its log), once, with the outcomes role;
    its card is its own champion's; the default use case's store is untouched."""
    import pandas as pd

    from lifecycle.paths import Paths
    from lifecycle.predictions import feedback_dir, labelled

    operator = {"Authorization": "Bearer secret"}
    answer = app_client.post(f"/use-cases/{TWIN}/predict", json=_records(two_cases, 2))
    rid = answer.json()["request_id"]
    one = {"request_id": rid, "record": 0, "outcome": "Yes"}
    route = f"/use-cases/{TWIN}/feedback"
    assert app_client.post(route, json=one).status_code == 401
    assert app_client.post(route, json=one, headers=operator).json() == {"accepted": 1}
    again = app_client.post(route, json={**one, "outcome": "No"}, headers=operator)
    assert again.status_code == 409 and f"{rid}#0" in again.json()["detail"]
    bad = app_client.post(route, json={**one, "outcome": "maybe"}, headers=operator)
    assert bad.status_code == 422 and "outcome" in bad.text
    fix = {"record": 0, "outcome": "No", "reason": "wrong customer"}
    assert app_client.put(f"{route}/{rid}", json=fix, headers=operator).status_code == 200
    trail = app_client.get(f"{route}/{rid}/corrections", headers=operator).json()
    assert [(c["previous"], c["outcome"]) for c in trail] == [("Yes", "No")]
    missing = app_client.post("/use-cases/nope/feedback", json=one, headers=operator)
    assert missing.status_code == 404
    joined = labelled(Paths(two_cases.root, TWIN))
    mine = joined[joined["request_id"] == rid].sort_values("record")
    outcomes = mine["outcome"].tolist()  # the correction wins; record 1 has no outcome yet
    assert len(outcomes) == 2 and outcomes[0] == "No" and pd.isna(outcomes[1])
    root_feedback = feedback_dir(Paths(two_cases.root))
    assert not any(rid in f.read_text() for f in root_feedback.rglob("*.jsonl"))
    card = app_client.get(f"/use-cases/{TWIN}/model")
    assert card.status_code == 200, card.text
    assert (card.json()["version"], card.json()["threshold"]) == ("1", TWIN_THRESHOLD)
    assert card.json()["name"] == TWIN


@pytest.mark.slow
def test_a_use_case_beside_the_app_has_its_own_shadow_and_canary(
    serving_template: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """duo (shadow on in its params) shadows its own challenger into its own log; the operator
    sets duo's canary share and duo's customers split; the default use case's share stays 0."""
    import time

    from lifecycle.paths import Paths
    from lifecycle.predictions import predictions_dir, read_lines
    from lifecycle.registry import set_challenger
    from lifecycle.serve.app import create_app
    from lifecycle.serve.state import ServeSettings

    project = copy_project(serving_template, tmp_path / "project")
    duo, operator = "duo", {"Authorization": "Bearer secret"}
    _use_case(project.root, duo, shadow=True, shadow_max_delay_seconds=60)
    _register_champion(project, duo)
    with environment(project.env):
        import mlflow

        challenger = str(mlflow.register_model(f"runs:/{project.run_id}/model", duo).version)
        set_challenger(Paths(project.root, duo), duo, challenger)
    for key, value in project.env.items():
        monkeypatch.setenv(key, value)
    id_column = project.params.data.id_column
    rows = [{**r, id_column: f"D-{i:04d}"} for i, r in enumerate(_records(project, 200))]
    with TestClient(create_app(ServeSettings(project.params, Paths(project.root), "secret"))) as c:
        wait_ready(c)
        first = c.post(f"/use-cases/{duo}/predict", json=rows[:30])
        assert first.status_code == 200, first.text
        assert {(p["variant"], p["model_version"]) for p in first.json()["predictions"]} == {
            ("champion", "1")
        }
        deadline, live = time.monotonic() + 60, {}
        while time.monotonic() < deadline:
            report = c.get(f"/use-cases/{duo}/shadow").json()
            live = report["live"]["records"]
            if live["scored"] >= 30:
                break
            time.sleep(0.1)
        assert live["scored"] == 30 and report["challenger"]["version"] == challenger, report
        share = {"share": 0.5}
        assert c.post(f"/use-cases/{duo}/admin/canary", json=share).status_code == 401
        moved = c.post(f"/use-cases/{duo}/admin/canary", json=share, headers=operator)
        assert moved.status_code == 200 and moved.json()["share"] == 0.5, moved.text
        split = c.post(f"/use-cases/{duo}/predict", json=rows).json()["predictions"]
        versions = {p["variant"]: p["model_version"] for p in split}
        assert versions == {"champion": "1", "canary": challenger}
        assert c.get(f"/use-cases/{duo}/canary").json()["share"] == 0.5
        default = c.post("/predict", json=rows).json()["predictions"]
        assert {p["variant"] for p in default} == {"champion"}
        assert c.get("/canary").json()["share"] == 0.0
        mine, app = c.get(f"/use-cases/{duo}/metrics").text, c.get("/metrics").text
        line = 'lifecycle_variant_predictions_total{variant="canary"} '
        assert float(mine.split(line)[1].split("\n")[0]) > 0  # duo's canary answered
        assert float(app.split(line)[1].split("\n")[0]) == 0  # the default use case's did not
        assert "lifecycle_canary_share 0.5" in mine and "lifecycle_canary_share 0.0" in app
    # the app stopped duo's parts with its own: the shadowed lines are in duo's log
    logged = read_lines(predictions_dir(Paths(project.root, duo)))
    mine = logged[logged["request_id"] == first.json()["request_id"]]
    assert len(mine) == 30 and (mine["shadow_version"].astype(str) == challenger).all()
