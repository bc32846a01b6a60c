"""Contract tests of the serving API on a real MLflow store, through TestClient."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.integration.serve.conftest import wait_ready
from tests.integration.serve.project import Project, derive_project

AUTH = {"Authorization": "Bearer secret"}


def test_health_ready_and_model_card(client: TestClient, project: Project) -> None:
    """Alive, ready, and the card names version, alias, training date, metrics, data, run."""
    assert client.get("/health").json() == {"status": "alive"}
    assert client.get("/ready").json() == {"ready": True, "model_version": "1"}
    card = client.get("/model").json()
    assert (card["name"], card["version"], card["alias"]) == ("telco-churn", "1", "champion")
    assert card["trained_at"] and card["data_version"]
    assert card["holdout_metrics"]["roc_auc"] > 0.6
    assert project.run_id in card["mlflow_run_url"]
    assert card["fast_path"]["used"] is True


def test_predict_one_and_many(client: TestClient, records: list[dict[str, object]]) -> None:
    """One record or a list: a score, a label at the threshold, the version, a request id."""
    one = client.post("/predict", json=records[0])
    assert one.status_code == 200
    body = one.json()
    assert body["request_id"] and body["model_version"] == "1"
    [pred] = body["predictions"]
    assert 0 <= pred["score"] <= 1 and pred["model_version"] == "1"
    assert pred["label"] == ("Yes" if pred["score"] >= 0.5 else "No")
    many = client.post("/predict", json=records[:7], headers={"X-Request-ID": "abc-1"}).json()
    # the request id is the server's; the caller's is kept beside it (issue 16, point 1)
    assert many["request_id"] != "abc-1" and many["correlation_id"] == "abc-1"
    assert [p["record"] for p in many["predictions"]] == list(range(7))


def test_scores_identical_to_pipeline_row_for_row(
    client: TestClient, project: Project, records: list[dict[str, object]]
) -> None:
    """Fast path and micro-batching change nothing: the pipeline's exact scores.

    A request's scores equal `predict_proba` on that request's own rows (a linear model's
    matrix product may round differently by batch size, so singles are checked alone).
    """
    import pandas as pd

    from lifecycle.features import model_inputs
    from lifecycle.paths import Paths
    from lifecycle.registry import load_sklearn

    with pytest.MonkeyPatch.context() as mp:
        for k, v in project.env.items():
            mp.setenv(k, v)
        pipe = load_sklearn(Paths(project.root), "telco-churn", "1")
    frame = pd.read_parquet(project.root / "data" / "processed" / "holdout.parquet")
    expected = pipe.predict_proba(model_inputs(frame, project.params.data))[:, 1]  # type: ignore[attr-defined]
    whole = client.post("/predict", json=records).json()["predictions"]
    assert np.array_equal([p["score"] for p in whole], expected)
    x = model_inputs(frame, project.params.data)
    for i in range(40):
        single = client.post("/predict", json=records[i]).json()["predictions"][0]["score"]
        assert single == pipe.predict_proba(x.iloc[i : i + 1])[0, 1], i  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("mutate", "field", "rule"),
    [
        (lambda r, f: r.pop(f["num"]), "num", "missing"),
        (lambda r, f: r.update(zz_unknown=1), "zz_unknown", "extra_forbidden"),
        (lambda r, f: r.update({f["num"]: "12"}), "num", "float_type"),
        (lambda r, f: r.update({f["cat"]: "no such category"}), "cat", "literal_error"),
        (lambda r, f: r.update({f["cat"]: 3}), "cat", "literal_error"),
        (lambda r, f: r.update({f["num"]: None}), "num", "float_type"),
    ],
)
def test_bad_record_is_422_naming_field_and_rule(
    client: TestClient, project: Project, records: list[dict[str, object]], mutate, field, rule
) -> None:  # type: ignore[no-untyped-def]
    """Missing, unknown, wrong type, unknown category, null where not allowed: 422."""
    names = {"num": project.params.data.numeric[0], "cat": project.params.data.categorical[0]}
    rec = dict(records[0])
    mutate(rec, names)
    r = client.post("/predict", json=[records[1], rec])
    assert r.status_code == 422
    locs = {(tuple(e["loc"]), e["type"]) for e in r.json()["detail"]}
    assert (("body", 1, names.get(field, field)), rule) in locs


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_nan_and_infinity_are_422(
    client: TestClient, project: Project, records: list[dict[str, object]], literal: bytes
) -> None:
    """Non-finite numbers never reach the model."""
    col = project.params.data.numeric[0]
    raw = json.dumps(records[0]).replace(f'"{col}": {records[0][col]}', f'"{col}": __X__')
    r = client.post("/predict", content=raw.replace("__X__", literal.decode()).encode())
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", col]


def test_empty_too_many_too_big_and_garbage(
    client: TestClient, project: Project, records: list[dict[str, object]]
) -> None:
    """An empty list, too many records, an oversized body, broken JSON: 422 / 413, no 500."""
    limit = project.params.serving.max_records
    assert client.post("/predict", json=[]).json()["detail"][0]["type"] == "too_short"
    r = client.post("/predict", json=[records[0]] * (limit + 1))
    assert r.status_code in (413, 422)
    if r.status_code == 422:
        assert r.json()["detail"][0]["type"] == "too_long"
    big = b"[" + b" " * project.params.serving.max_body_bytes + b"]"
    r = client.post("/predict", content=big)
    assert r.status_code == 413 and "max_body_bytes" in r.json()["detail"]
    for junk in (b"", b"{", b"null", b"42", b'"x"', b"[1]"):
        assert client.post("/predict", content=junk).status_code == 422, junk


def test_no_model_is_503_and_not_ready(
    empty_client: TestClient, records: list[dict[str, object]]
) -> None:
    """An empty registry: /ready and /predict say 503 with a clear message."""
    ready = empty_client.get("/ready")
    assert ready.status_code == 503 and ready.json()["ready"] is False
    r = empty_client.post("/predict", json=records[0])
    assert r.status_code == 503 and "no model loaded" in r.json()["detail"]
    assert empty_client.get("/model").status_code == 503


def test_metrics_exposition(client: TestClient, records: list[dict[str, object]]) -> None:
    """Request counts, latency, score distribution and model version in Prometheus text."""
    client.post("/predict", json=records[:10])
    text = client.get("/metrics").text
    assert 'lifecycle_http_requests_total{method="POST",route="/predict",status="200"} 1.0' in text
    assert "lifecycle_http_request_seconds_bucket" in text
    assert "lifecycle_prediction_score_count 10.0" in text
    assert 'lifecycle_model_info{alias="champion",name="telco-churn",version="1"} 1.0' in text
    assert 'lifecycle_predictions_total{model_version="1"} 10.0' in text


def test_feedback_joins_the_log(
    client: TestClient, project: Project, records: list[dict[str, object]]
) -> None:
    """Outcomes posted by request id (JSON or a JSON-lines file) join the prediction log."""
    from lifecycle.paths import Paths
    from lifecycle.predictions import labelled

    rid = client.post("/predict", json=records[:3]).json()["request_id"]
    one = client.post("/feedback", json={"request_id": rid, "outcome": "Yes"}, headers=AUTH)
    assert one.json() == {"accepted": 1}
    lines = "\n".join(json.dumps({"request_id": rid, "record": i, "outcome": "No"}) for i in (1, 2))
    kind = {"Content-Type": "application/x-ndjson", **AUTH}
    r = client.post("/feedback", content=lines, headers=kind)
    assert r.json() == {"accepted": 2}
    bad = client.post("/feedback", json={"request_id": rid, "outcome": "maybe"}, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "outcome"]
    client.app.state.service.log.flush()  # type: ignore[attr-defined]
    joined = labelled(Paths(project.root))
    mine = joined[joined["request_id"] == rid].sort_values("record")
    assert mine["outcome"].tolist() == ["Yes", "No", "No"]
    assert set(project.params.data.features) <= set(joined.columns)


def test_admin_auth(client: TestClient) -> None:
    """No token 401, wrong token 403, right token 200."""
    for path in ("/admin/reload", "/admin/rollback"):
        none = client.post(path)
        assert none.status_code == 401 and none.headers["www-authenticate"] == "Bearer"
        assert client.post(path, headers={"Authorization": "Bearer wrong"}).status_code == 403
        assert client.post(path, headers={"Authorization": "Basic c2VjcmV0"}).status_code == 401
    ok = client.post("/admin/reload", headers=AUTH)
    assert ok.status_code == 200 and ok.json()["model_version"] == "1"


def test_reload_and_rollback_swap_versions(
    client: TestClient, project: Project, records: list[dict[str, object]]
) -> None:
    """Promote a new version, reload: it answers; roll back: the old one answers again."""
    from lifecycle.paths import Paths
    from lifecycle.registry import promote, version_by_alias
    from tests.integration.serve.project import register_copy

    paths = Paths(project.root)
    before = str(version_by_alias(paths, "telco-churn", "champion").version)  # type: ignore[union-attr]
    new = register_copy(project)
    promote(paths, "telco-churn", new)
    assert client.post("/admin/reload", headers=AUTH).json() == {
        "model_version": new,
        "changed": True,
    }
    assert client.post("/predict", json=records[0]).json()["model_version"] == new
    back = client.post("/admin/rollback", headers=AUTH).json()
    assert back == {"champion": before, "demoted": new, "model_version": before}
    assert client.post("/predict", json=records[0]).json()["model_version"] == before


def test_token_never_logged(project_env: Project, caplog: pytest.LogCaptureFixture) -> None:
    """The admin token appears in no log record, whatever is sent."""
    from lifecycle.paths import Paths
    from lifecycle.serve.app import create_app
    from lifecycle.serve.state import ServeSettings

    token = "tok-3f9a-never-logged"
    settings = ServeSettings(project_env.params, Paths(project_env.root), token)
    assert token not in repr(settings)
    caplog.set_level("DEBUG")
    with TestClient(create_app(settings)) as c:
        wait_ready(c)
        c.post("/admin/reload", headers={"Authorization": f"Bearer {token}"})
        c.post("/admin/reload", headers={"Authorization": f"Bearer {token}x"})
    assert caplog.records and token not in caplog.text


def test_score_file_uses_the_same_model_and_log(project_env: Project, tmp_path: Path) -> None:
    """Offline scoring: same scores as the API's model, rows in the log, an output file."""
    import pandas as pd

    from lifecycle.paths import Paths
    from lifecycle.predictions import read_lines
    from lifecycle.serve.batch import BatchInputError, score_file

    paths = Paths(project_env.root)
    src = project_env.root / "data" / "processed" / "holdout.parquet"
    out = tmp_path / "scores.csv"
    res = score_file(project_env.params, paths, src, out, "champion")
    frame = pd.read_csv(out, float_precision="round_trip")
    assert res.rows == len(pd.read_parquet(src)) == len(frame)
    logged = read_lines(paths.predictions)
    mine = logged[logged["request_id"] == res.request_id].sort_values("record")
    assert np.array_equal(mine["score"].to_numpy(), frame["score"].to_numpy())
    bad = tmp_path / "bad.csv"
    pd.read_parquet(src).head(3).drop(columns=[project_env.params.data.numeric[0]]).to_csv(bad)
    with pytest.raises(BatchInputError, match="missing"):
        score_file(project_env.params, paths, bad, None, "champion")


def test_huge_finite_number_is_422_not_500(
    client: TestClient, project: Project, records: list[dict[str, object]]
) -> None:
    """1e308 is finite JSON but overflows once scaled: refused by the schema (found by fuzzing)."""
    col = project.params.data.numeric[0]
    r = client.post("/predict", json={**records[0], col: 1e308})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "less_than_equal"


def test_nested_lifespan_leaves_the_service_running(
    client: TestClient, records: list[dict[str, object]]
) -> None:
    """A second start and stop of the same app (as test transports do) closes nothing."""
    with TestClient(client.app):
        pass
    assert client.post("/predict", json=records[0]).status_code == 200


def test_drift_gauge_follows_the_newest_report(client: TestClient, project: Project) -> None:
    """No gauge before the first drift report; then the newest report's worst score."""
    import os

    drift = project.root / "reports" / "drift"
    name = "lifecycle_drift_worst_score"
    assert f"\n{name} " not in client.get("/metrics").text
    drift.mkdir(parents=True, exist_ok=True)
    older, newer = drift / "month_01.json", drift / "month_02.json"
    try:
        older.write_text(json.dumps({"worst_drift_score": 0.05}))
        newer.write_text(json.dumps({"worst_drift_score": 0.42}))
        os.utime(older, (1_000_000_000, 1_000_000_000))
        assert f"\n{name} 0.42\n" in client.get("/metrics").text
        newer.write_text(json.dumps({"worst_drift_score": 0.07}))
        assert f"\n{name} 0.07\n" in client.get("/metrics").text
    finally:
        older.unlink(missing_ok=True)
        newer.unlink(missing_ok=True)


@pytest.fixture(scope="module")
def boosted(serving_template: Project, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """A project whose champion is the boosted candidate (the flat-tree path serves it)."""
    folder = tmp_path_factory.mktemp("boosted")
    return derive_project(serving_template, folder, "hist_gb", {"max_iter": 40})


def test_boosted_champion_scores_identical_through_flat_trees(
    boosted: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a boosted champion, small requests walk the flat trees and large ones go through
    sklearn; both give predict_proba's exact numbers on every row."""
    import pandas as pd

    from lifecycle.features import model_inputs
    from lifecycle.paths import Paths
    from lifecycle.registry import load_sklearn
    from lifecycle.serve.app import create_app
    from lifecycle.serve.state import ServeSettings

    for key, value in boosted.env.items():
        monkeypatch.setenv(key, value)
    pipe: Any = load_sklearn(Paths(boosted.root), "telco-churn", boosted.version)
    frame = pd.read_parquet(boosted.root / "data" / "processed" / "holdout.parquet")
    x = model_inputs(frame, boosted.params.data)
    feats = frame[list(boosted.params.data.features)].astype(object)
    records = [
        {str(k): v for k, v in r.items()}
        for r in feats.where(feats.notna(), None).to_dict("records")
    ]
    settings = ServeSettings(boosted.params, Paths(boosted.root), "secret")
    with TestClient(create_app(settings)) as client:
        wait_ready(client)
        card = client.get("/model").json()
        assert card["candidate"] == "hist_gb" and "flat trees" in card["fast_path"]["note"]
        whole = client.post("/predict", json=records).json()["predictions"]
        assert np.array_equal([p["score"] for p in whole], pipe.predict_proba(x)[:, 1])
        for start, size in [(0, 1), (1, 1), (2, 5), (7, 64), (71, 65)]:
            part = client.post("/predict", json=records[start : start + size]).json()
            expected = pipe.predict_proba(x.iloc[start : start + size])[:, 1]
            assert np.array_equal([p["score"] for p in part["predictions"]], expected), size
