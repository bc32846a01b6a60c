"""One Prefect server holds every use case's deployments, named, tagged and pointed at it."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import pytest
import yaml

from tests.integration.flows.support import in_project, make_project
from tests.support.project import fast_params_raw

pytestmark = pytest.mark.slow
NAME = "pima"
DEPLOYMENTS = ("ingest", "monitor", "train", "retrain", "retention")


def test_every_use_case_deploys_beside_the_default_one(prefect_api: str, tmp_path: Path) -> None:
    """train and train@pima side by side; pima's carry its tag and its worker environment."""
    from prefect.client.orchestration import get_client

    from lifecycle.orchestration.deploy import deploy_every_use_case
    from lifecycle.orchestration.runtime import setup

    root = make_project(tmp_path / "project")
    raw = fast_params_raw()
    raw["mlflow"]["model_name"] = raw["mlflow"]["experiment"] = NAME
    (root / "use_cases" / NAME).mkdir(parents=True)
    (root / "use_cases" / NAME / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    with in_project(root):
        params, paths = setup(None)
        made = deploy_every_use_case(params, paths.root)
        assert list(made) == ["default", NAME]
        with get_client(sync_client=True) as client:
            found = {
                (use_case, name): client.read_deployment(UUID(i))
                for use_case, ids in made.items()
                for name, i in ids.items()
            }
    assert len({d.id for d in found.values()}) == 2 * len(DEPLOYMENTS)  # none replaced another
    for name in DEPLOYMENTS:
        default, other = found[("default", name)], found[(NAME, name)]
        assert (default.name, other.name) == (name, f"{name}@{NAME}")
        assert "use_case:default" in default.tags and f"use_case:{NAME}" in other.tags
        assert other.job_variables["env"]["LIFECYCLE_USE_CASE"] == NAME
        assert "LIFECYCLE_USE_CASE" not in default.job_variables["env"]
