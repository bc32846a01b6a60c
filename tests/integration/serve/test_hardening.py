"""Issue 16 on a real app and store: outcomes need a role and are written once, one data
contract, the log written before the answer, admin auth before the body."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lifecycle.privacy import project_key, pseudonym_of
from tests.integration.serve.conftest import wait_ready
from tests.integration.serve.project import Project

OPERATOR, VIEWER, OUTCOMES = "op-7d1", "view-3e9", "out-5a2"


def bearer(token: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def serving(project: Project, **serving: Any) -> Iterator[TestClient]:
    """An app with the three role tokens and serving params changed by keyword."""
    from lifecycle.paths import Paths
    from lifecycle.serve.app import create_app
    from lifecycle.serve.state import ServeSettings

    p = project.params
    params = p.model_copy(update={"serving": p.serving.model_copy(update=serving)})
    settings = ServeSettings(
        params, Paths(project.root), OPERATOR, viewer_token=VIEWER, outcomes_token=OUTCOMES
    )
    with TestClient(create_app(settings)) as c:
        wait_ready(c)
        yield c


def test_outcomes_need_a_role_are_written_once_and_corrected_with_an_audit(
    project_env: Project, records: list[dict[str, object]]
) -> None:
    """401/403 without the outcomes role; a second post is 409; a correction wins, audited."""
    from lifecycle.paths import Paths
    from lifecycle.predictions import labelled

    with serving(project_env) as client:
        answer = client.post("/predict", json=records[:2], headers={"X-Request-ID": "mine"})
        rid = answer.json()["request_id"]
        assert rid != "mine" and answer.headers["X-Correlation-ID"] == "mine"
        one = {"request_id": rid, "record": 0, "outcome": "Yes"}
        assert client.post("/feedback", json=one).status_code == 401
        assert client.post("/feedback", json=one, headers=bearer(VIEWER)).status_code == 403
        assert client.post("/feedback", json=one, headers=bearer("x")).status_code == 403
        assert client.post("/feedback", json=one, headers=bearer(OUTCOMES)).json() == {
            "accepted": 1
        }
        again = client.post("/feedback", json={**one, "outcome": "No"}, headers=bearer(OUTCOMES))
        assert again.status_code == 409 and f"{rid}#0" in again.json()["detail"]
        # all or none: a body holding one known and one new outcome keeps neither
        both = [{**one, "outcome": "No"}, {"request_id": rid, "record": 1, "outcome": "No"}]
        assert client.post("/feedback", json=both, headers=bearer(OPERATOR)).status_code == 409
        twice = [{"request_id": rid, "record": 1, "outcome": "No"}] * 2
        assert client.post("/feedback", json=twice, headers=bearer(OPERATOR)).status_code == 409
        fix = {"record": 0, "outcome": "No", "reason": "the CRM had the wrong customer"}
        assert client.put(f"/feedback/{rid}", json=fix).status_code == 401
        no_reason = client.put(f"/feedback/{rid}", json={"outcome": "No"}, headers=bearer(OUTCOMES))
        assert no_reason.status_code == 422
        unknown = client.put(f"/feedback/{rid}", json={**fix, "record": 1},
                             headers=bearer(OUTCOMES))  # fmt: skip
        assert unknown.status_code == 404
        done = client.put(f"/feedback/{rid}", json=fix, headers=bearer(OPERATOR)).json()
        assert (done["previous"], done["outcome"], done["by"]) == ("Yes", "No", "operator")
        trail = client.get(f"/feedback/{rid}/corrections", headers=bearer(OUTCOMES)).json()
        assert [(c["previous"], c["outcome"], c["reason"], c["by"]) for c in trail] == [
            ("Yes", "No", fix["reason"], "operator")
        ]
        assert trail[0]["time"]
    joined = labelled(Paths(project_env.root))
    mine = joined[joined["request_id"] == rid].sort_values("record")
    assert mine["outcome"].tolist()[:1] == ["No"]  # what monitoring reads: the correction
    assert mine["correlation_id"].tolist() == ["mine", "mine"]


def test_out_of_contract_records_are_422_naming_field_value_and_rule(
    client: TestClient, records: list[dict[str, object]], project: Project
) -> None:
    """tenure -5 and a flag of 5.8e14 are refused as the batch validator refuses them."""
    (col, (low, _)), *_ = project.params.validation.ranges.items()
    for bad in (low - 5, 5.8e14):
        r = client.post("/predict", json=[records[0], {**records[1], col: bad}])
        assert r.status_code == 422
        [detail] = r.json()["detail"]
        assert detail["loc"] == ["body", 1, col] and detail["input"] == bad
        assert detail["type"] in {"greater_than_equal", "less_than_equal"}


def test_out_of_contract_flag_mode_scores_flags_and_keeps_out_of_training(
    project_env: Project, records: list[dict[str, object]]
) -> None:
    """serving.out_of_contract: flag scores the record, flags its line, labelled() drops it."""
    from lifecycle.paths import Paths
    from lifecycle.predictions import labelled, read_lines

    (col, (low, _)), *_ = project_env.params.validation.ranges.items()
    with serving(project_env, out_of_contract="flag") as client:
        ids = project_env.params.data.id_column
        body = [records[0], {**records[1], col: low - 5, ids: -149.0}]
        r = client.post("/predict", json=body)
        assert r.status_code == 200, r.text
        rid = r.json()["request_id"]
    lines = read_lines(Paths(project_env.root).predictions)
    mine = lines[lines["request_id"] == rid].sort_values("record")
    flags = mine["out_of_contract"].tolist()
    assert flags[0] is None or flags[0] != flags[0]  # null: in contract
    assert flags[1].startswith(f"{col}=") and "validation.ranges" in flags[1]
    key = project_key(Path(project_env.root))  # the log keeps ids as pseudonyms (issue 17)
    assert mine[project_env.params.data.id_column].tolist()[1] == pseudonym_of(-149, key)
    kept = labelled(Paths(project_env.root))
    assert kept[kept["request_id"] == rid]["record"].tolist() == [0]


def test_every_answered_prediction_is_on_disk_when_the_answer_arrives(
    client: TestClient, records: list[dict[str, object]], project: Project
) -> None:
    """No flush, no shutdown: the lines are in the day file as soon as the answer is read."""
    rids = [client.post("/predict", json=records[i]).json()["request_id"] for i in range(20)]
    big = client.post("/predict", json=records[:300]).json()["request_id"]
    text = "".join(
        f.read_text() for f in (Path(project.root) / "data" / "predictions").rglob("*.jsonl")
    )
    assert all(f'"request_id":"{rid}"' in text for rid in rids)
    assert text.count(f'"request_id":"{big}"') == 300


@pytest.mark.parametrize("body", [b"{not json", b'{"share": 7}', b""])
def test_admin_canary_checks_the_token_before_the_body(client: TestClient, body: bytes) -> None:
    """Garbage without a token is 401, not 422: nothing of the body is read first."""
    r = client.post("/admin/canary", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 401
    wrong = client.post("/admin/canary", content=body, headers=bearer("nope"))
    assert wrong.status_code == 403
    right = client.post("/admin/canary", content=body, headers={"Authorization": "Bearer secret"})
    assert right.status_code == 422
