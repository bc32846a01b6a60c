"""POST /explain on the real app: reasons from the version /predict serves, bad bodies refused."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.integration.serve.project import Project

pytestmark = pytest.mark.slow


def test_explain_names_the_served_version_and_matches_the_cli_reasons(
    client: TestClient, project: Project, records: list[dict[str, object]]
) -> None:
    """Same version and score as /predict; the reasons equal lifecycle.explain's for the record."""
    import pandas as pd

    from lifecycle.explain import explain_record
    from lifecycle.paths import Paths
    from lifecycle.registry import load_sklearn

    record = records[3]
    answer = client.post("/explain", json=record)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    predicted = client.post("/predict", json=record).json()
    assert body["version"] == predicted["model_version"] == "1"
    assert body["score"] == pytest.approx(predicted["predictions"][0]["score"], abs=1e-9)

    paths = Paths(project.root)
    model = load_sklearn(paths, project.params.mlflow.model_name, "1")
    reference = pd.read_parquet(paths.reference)
    expected = explain_record(model, record, project.params, reference)
    assert [r["feature"] for r in body["reasons"]] == [c.feature for c in expected]
    assert [r["points"] for r in body["reasons"]] == pytest.approx([c.points for c in expected])
    assert all(r["sentence"] for r in body["reasons"])


def test_explain_refuses_lists_and_bad_fields(
    client: TestClient, records: list[dict[str, object]]
) -> None:
    """Two records: 422 saying one; a bad category: 422 naming the field (as /predict does)."""
    two = client.post("/explain", json=records[:2])
    assert two.status_code == 422 and "exactly one record" in two.text
    bad = dict(records[0], contract="Forever")
    wrong = client.post("/explain", json=bad)
    assert wrong.status_code == 422 and "contract" in wrong.text


def test_explain_without_a_model_is_503(
    empty_client: TestClient, records: list[dict[str, object]]
) -> None:
    """An empty registry: /explain says 503 with the same message as /predict."""
    r = empty_client.post("/explain", json=records[0])
    assert r.status_code == 503 and "no model loaded" in r.json()["detail"]
