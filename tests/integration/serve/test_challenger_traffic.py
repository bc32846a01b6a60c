"""The challenger on live traffic, through TestClient on a real project: canary, shadow, roles."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.integration.serve.conftest import wait_ready
from tests.integration.serve.project import Project, environment, register_copy

OPERATOR, VIEWER = "op-token-7c1e", "view-token-2b9d"
AS_OPERATOR = {"Authorization": f"Bearer {OPERATOR}"}
AS_VIEWER = {"Authorization": f"Bearer {VIEWER}"}
Factory = Callable[..., AbstractContextManager[TestClient]]


@pytest.fixture(scope="module")
def challenger(project: Project) -> str:
    """A second registered version (same run) under the challenger alias."""
    from lifecycle.paths import Paths
    from lifecycle.registry import set_challenger

    version = register_copy(project)
    with environment(project.env):
        set_challenger(Paths(project.root), project.params.mlflow.model_name, version)
    return version


@pytest.fixture
def serving(project_env: Project, challenger: str) -> Factory:
    """Start an app whose serving params are changed by keyword; tokens OPERATOR and VIEWER."""
    from lifecycle.paths import Paths
    from lifecycle.serve.app import create_app
    from lifecycle.serve.state import ServeSettings

    @contextmanager
    def start(viewer: str | None = VIEWER, **serving: Any) -> Iterator[TestClient]:
        p = project_env.params
        params = p.model_copy(update={"serving": p.serving.model_copy(update=serving)})
        settings = ServeSettings(
            params, Paths(project_env.root), OPERATOR, record_ledger=False, viewer_token=viewer
        )
        with TestClient(create_app(settings)) as client:
            wait_ready(client)
            state = client.app.state.service  # type: ignore[attr-defined]
            if state.wants_challenger:
                deadline = time.monotonic() + 60
                while state.challenger.current is None and time.monotonic() < deadline:
                    time.sleep(0.05)
            yield client

    return start


def with_ids(records: list[dict[str, object]], n: int, prefix: str = "C") -> list[dict[str, Any]]:
    """n records (holdout rows, repeated) each with its own customer id."""
    return [{**records[i % len(records)], "customer_id": f"{prefix}-{i:05d}"} for i in range(n)]


def service(client: TestClient) -> Any:
    """The app's shared state."""
    return client.app.state.service  # type: ignore[attr-defined]


def test_canary_share_over_10000_requests_and_sticky(
    serving: Factory, records: list[dict[str, object]], challenger: str
) -> None:
    """20% configured: 10,000 customers split within 2 points, each one always the same way."""
    with serving(canary_share=0.2) as client:
        rows = with_ids(records, 10_000)
        first: dict[str, str] = {}
        for start in range(0, len(rows), 1000):
            chunk = rows[start : start + 1000]
            body = client.post("/predict", json=chunk, headers=AS_VIEWER).json()
            for rec, pred in zip(chunk, body["predictions"], strict=True):
                first[str(rec["customer_id"])] = pred["variant"]
                expected = challenger if pred["variant"] == "canary" else "1"
                assert pred["model_version"] == expected
        share = sum(v == "canary" for v in first.values()) / len(first)
        assert abs(share - 0.2) < 0.02, share
        # the same customers again, one by one and in other groupings: the same variant
        again = rows[:300:3]
        for rec in again[:40]:
            [pred] = client.post("/predict", json=rec).json()["predictions"]
            assert pred["variant"] == first[str(rec["customer_id"])]
        mixed = client.post("/predict", json=list(reversed(again))).json()["predictions"]
        for rec, pred in zip(reversed(again), mixed, strict=True):
            assert pred["variant"] == first[str(rec["customer_id"])]
        metrics = client.get("/metrics", headers=AS_VIEWER).text
        canary_rows = sum(v == "canary" for v in first.values())
        line = 'lifecycle_variant_predictions_total{variant="canary"} '
        counted = float(metrics.split(line)[1].split("\n")[0])
        assert counted >= canary_rows
        assert 'lifecycle_variant_model_seconds_count{variant="champion"}' in metrics
        assert "lifecycle_canary_share 0.2" in metrics


def test_records_without_id_and_zero_share_stay_with_the_champion(
    serving: Factory, records: list[dict[str, object]]
) -> None:
    """No customer id: the champion answers, whatever the share."""
    with serving(canary_share=1.0) as client:
        body = client.post("/predict", json=records[:50]).json()
        assert {p["variant"] for p in body["predictions"]} == {"champion"}
        ided = client.post("/predict", json=with_ids(records, 5)).json()
        assert {p["variant"] for p in ided["predictions"]} == {"canary"}
    with serving() as client:
        body = client.post("/predict", json=with_ids(records, 50)).json()
        assert {p["variant"] for p in body["predictions"]} == {"champion"}


def failing(model: Any) -> Any:
    """The same loaded challenger whose every model call raises."""

    def boom(rows: Any) -> Any:
        raise RuntimeError("challenger exploded")

    return dataclasses.replace(model, score=boom)


def test_failing_challenger_steps_back_to_zero(
    serving: Factory, records: list[dict[str, object]], caplog: pytest.LogCaptureFixture
) -> None:
    """A challenger that raises: customers still answered, share back to 0%, reason shown."""
    caplog.set_level(logging.WARNING, logger="lifecycle.serve.canary")
    with serving(
        canary_share=0.5, canary_min_requests=5, canary_window=10, poll_seconds=0
    ) as client:
        state = service(client)
        state.challenger.current = failing(state.challenger.current)
        rows = with_ids(records, 60)
        answers = [client.post("/predict", json=r) for r in rows]
        assert all(r.status_code == 200 for r in answers)
        assert all(r.json()["predictions"][0]["variant"] == "champion" for r in answers)
        status = client.get("/canary", headers=AS_VIEWER).json()
        assert status["share"] == 0.0 and status["set_by"] == "automatic step-back"
        assert "error rate" in status["stepped_back"]["reason"]
        assert status["stepped_back"]["share_before"] == 0.5
        assert any("canary stepped back to 0%" in r.getMessage() for r in caplog.records)
        metrics = client.get("/metrics", headers=AS_VIEWER).text
        assert "lifecycle_canary_step_backs_total 1.0" in metrics
        assert "lifecycle_canary_share 0.0" in metrics
        assert 'lifecycle_variant_model_calls_total{result="error",variant="canary"} 5.0' in metrics


def test_slow_challenger_steps_back_on_latency(
    serving: Factory, records: list[dict[str, object]]
) -> None:
    """A latency bound of about 0: the first judged window steps back, naming the p95."""
    with serving(canary_share=1.0, canary_min_requests=5, canary_max_p95_ms=1e-6) as client:
        rows = with_ids(records, 12)
        variants = [client.post("/predict", json=r).json()["predictions"][0]["variant"]
                    for r in rows]  # fmt: skip
        assert variants[:5] == ["canary"] * 5 and set(variants[5:]) == {"champion"}
        reason = client.get("/canary", headers=AS_OPERATOR).json()["stepped_back"]["reason"]
        assert "p95" in reason and "canary_max_p95_ms" in reason


def test_operator_sets_the_share(serving: Factory, records: list[dict[str, object]]) -> None:
    """POST /admin/canary: operator only, range-checked, restarts after a step-back."""
    with serving() as client:
        assert client.post("/admin/canary", json={"share": 0.3}).status_code == 401
        denied = client.post("/admin/canary", json={"share": 0.3}, headers=AS_VIEWER)
        assert denied.status_code == 403
        assert (
            client.post("/admin/canary", json={"share": 1.5}, headers=AS_OPERATOR).status_code
            == 422
        )
        ok = client.post("/admin/canary", json={"share": 0.3}, headers=AS_OPERATOR)
        assert ok.status_code == 200 and ok.json()["share"] == 0.3
        assert ok.json()["set_by"] == "operator" and ok.json()["challenger"]["version"]
        body = client.post("/predict", json=with_ids(records, 2000)).json()
        share = np.mean([p["variant"] == "canary" for p in body["predictions"]])
        assert abs(share - 0.3) < 0.04
        client.post("/admin/canary", json={"share": 0}, headers=AS_OPERATOR)
        body = client.post("/predict", json=with_ids(records, 200)).json()
        assert {p["variant"] for p in body["predictions"]} == {"champion"}


def test_share_without_a_challenger_is_409(serving: Factory) -> None:
    """No version under the challenger alias: the operator is told, the share stays 0."""
    with serving(challenger_alias="nobody") as client:
        r = client.post("/admin/canary", json={"share": 0.1}, headers=AS_OPERATOR)
        assert r.status_code == 409 and "nobody" in r.json()["detail"]
        assert client.get("/canary", headers=AS_VIEWER).json()["share"] == 0.0


def wait_shadowed(client: TestClient, rows: int, seconds: float = 30) -> dict[str, Any]:
    """Block until the shadow has handled this many rows; its live stats."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        stats: dict[str, Any] = service(client).shadow.stats()
        if sum(stats["records"].values()) >= rows:
            return stats
        time.sleep(0.05)
    raise AssertionError(service(client).shadow.stats())


def test_shadow_logs_both_scores_and_never_answers(
    serving: Factory, project: Project, records: list[dict[str, object]], challenger: str
) -> None:
    """Champion answers; the log holds its score and the challenger's, version by version."""
    from lifecycle.monitor.windows import load_window
    from lifecycle.paths import Paths
    from lifecycle.predictions import read_lines

    with serving(shadow=True) as client:
        rid = client.post("/predict", json=records[:30], headers={"X-Request-ID": "shadow-1"})
        body = rid.json()
        assert body["model_version"] == "1"
        assert {p["variant"] for p in body["predictions"]} == {"champion"}
        assert wait_shadowed(client, 30)["records"]["scored"] == 30
        service(client).log.flush()
    paths = Paths(project.root)
    logged = read_lines(paths.predictions)
    mine = logged[logged["request_id"] == body["request_id"]].sort_values("record")
    assert len(mine) == 30
    assert (mine["model_version"].astype(str) == "1").all()
    assert (mine["shadow_version"].astype(str) == challenger).all()
    # the challenger is the same run's model: the same scores, and the champion's are served
    assert np.allclose(mine["shadow_score"], mine["score"])
    assert mine["score"].tolist() == [p["score"] for p in body["predictions"]]
    assert set(mine["shadow_label"]) <= {"Yes", "No"}
    window = load_window(paths.predictions)  # the monitor still reads the log
    assert set(project.params.data.features) <= set(window.columns)


def test_shadow_report_compares_agreement_and_profit(
    serving: Factory, project: Project, records: list[dict[str, object]]
) -> None:
    """An inverted challenger: low agreement, and once outcomes arrive it loses on profit."""
    with serving(shadow=True, shadow_min_labelled=40, poll_seconds=0) as client:
        state = service(client)
        champion = state.holder.current
        inverted = dataclasses.replace(
            champion, version="77", score=lambda rows: 1.0 - champion.score(rows)
        )
        state.challenger.current = inverted
        body = client.post("/predict", json=records[:200], headers={"X-Request-ID": "inv-1"}).json()
        wait_shadowed(client, 200)
        state.log.flush()
        waiting = client.get("/shadow", headers=AS_VIEWER).json()
        [pair] = [c for c in waiting["comparisons"] if c["challenger_version"] == "77"]
        assert pair["rows"] == 200 and pair["agreement"] < 0.6
        assert pair["favours"] == "undecided" and "waiting for outcomes" in pair["reason"]
        assert pair["correlation"] < -0.99
        # outcomes: the truth is the champion's own ranking (its top 30% churn)
        scores = np.array([p["score"] for p in body["predictions"]])
        cut = np.quantile(scores, 0.7)
        rid = body["request_id"]  # the server's id (the caller's "inv-1" is its correlation id)
        feedback = [{"request_id": rid, "record": i, "outcome": "Yes" if s >= cut else "No"}
                    for i, s in enumerate(scores)]  # fmt: skip
        sent = client.post("/feedback", json=feedback, headers=AS_OPERATOR)
        assert sent.json() == {"accepted": 200}
        report = client.get("/shadow", headers=AS_VIEWER).json()
    [pair] = [c for c in report["comparisons"] if c["challenger_version"] == "77"]
    assert pair["labelled_rows"] == 200
    assert pair["champion_profit"] > pair["challenger_profit"]
    assert pair["favours"] == "champion" and "labelled customers" in pair["reason"]
    assert report["live"]["records"]["scored"] >= 200


def test_roles(serving: Factory, records: list[dict[str, object]]) -> None:
    """Viewer routes: no token 401, unknown 403, viewer or operator 200; admin: viewer 403."""
    with serving() as client:
        for path in ("/model", "/shadow", "/canary", "/metrics"):
            none = client.get(path)
            assert none.status_code == 401 and none.headers["www-authenticate"] == "Bearer"
            assert client.get(path, headers={"Authorization": "Bearer nope"}).status_code == 403
            assert client.get(path, headers=AS_VIEWER).status_code == 200, path
            assert client.get(path, headers=AS_OPERATOR).status_code == 200, path
        for path in ("/admin/reload", "/admin/rollback", "/admin/canary"):
            r = client.post(path, json={"share": 0.1}, headers=AS_VIEWER)
            assert r.status_code == 403, path
            detail = r.json()["detail"].lower()
            assert "viewer" not in detail and "/" not in detail and "operator" not in detail
        for path in ("/health", "/ready"):
            assert client.get(path).status_code == 200
        assert client.post("/predict", json=records[0]).status_code == 200
    with serving(viewer=None) as client:  # no viewer token configured: read-only stays open
        assert client.get("/canary").status_code == 200
        assert client.post("/admin/canary", json={"share": 0}).status_code == 401


def test_tokens_never_logged(
    serving: Factory, records: list[dict[str, object]], caplog: pytest.LogCaptureFixture
) -> None:
    """Neither role's token appears in any log record, sent right or wrong."""
    caplog.set_level("DEBUG")
    with serving(canary_share=0.5) as client:
        for token in (OPERATOR, VIEWER, OPERATOR + "x", VIEWER + "x"):
            auth = {"Authorization": f"Bearer {token}"}
            client.get("/shadow", headers=auth)
            client.post("/admin/canary", json={"share": 0.2}, headers=auth)
        client.post("/predict", json=with_ids(records, 20))
    assert caplog.records
    assert OPERATOR not in caplog.text and VIEWER not in caplog.text
