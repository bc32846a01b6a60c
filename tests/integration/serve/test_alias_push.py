"""Alias moves pushed to the service: none is missed, and side use cases follow them too.

The alias-moved signal keeps only the last move. A promotion followed at once by the next
challenger (as the retrain loop and the push test do) overwrites the promotion's announcement
before a worker's next look; the worker must still serve the new champion, not wait for its
poll. Use cases served beside the app's own follow their signal the same way.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from tests.integration.serve.conftest import wait_ready
from tests.integration.serve.project import Project, copy_project, environment, register_copy
from tests.support.project import repo_params_raw


def test_a_promotion_overwritten_by_the_next_announcement_is_followed(
    serving_template: Project, tmp_path: Path
) -> None:
    """Promote v2, then name v3 challenger: the signal says only 'challenger v3', yet v2 serves."""
    from lifecycle.alias_signal import last_move
    from lifecycle.paths import Paths
    from lifecycle.registry import promote, set_challenger
    from lifecycle.serve.state import ServeSettings, ServiceState

    own = copy_project(serving_template, tmp_path / "project")
    paths, name = Paths(own.root), own.params.mlflow.model_name
    with environment(own.env):
        state = ServiceState(ServeSettings(own.params, paths, "secret"))
        asyncio.run(state.load_first())
        first = state.holder.current
        assert first is not None
        promoted, challenger = register_copy(own), register_copy(own)
        promote(paths, name, promoted)
        set_challenger(paths, name, challenger)
        move = last_move(state.signal)
        assert move is not None and (move["alias"], move["version"]) == ("challenger", challenger)
        asyncio.run(state.follow_move(move))
    served = state.holder.current
    assert served is not None and (first.version, served.version) == (own.version, promoted)
    assert state.models.get(challenger) is not None  # pre-loaded: promoting it will be instant


def test_a_use_case_served_beside_the_app_follows_its_promotions_at_once(
    serving_template: Project, tmp_path: Path
) -> None:
    """A side use case polled only hourly serves its newly promoted version within a minute."""
    import mlflow

    from lifecycle.paths import Paths
    from lifecycle.registry import client, promote
    from lifecycle.serve.app import create_app
    from lifecycle.serve.state import ServeSettings

    own = copy_project(serving_template, tmp_path / "project")
    side = "pushed"
    raw = repo_params_raw()
    raw["mlflow"]["model_name"] = raw["mlflow"]["experiment"] = side
    raw["serving"]["poll_seconds"] = 3600  # only the push can move it within the test
    folder = own.root / "use_cases" / side
    folder.mkdir(parents=True)
    (folder / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    record = _first_record(own)
    with environment(own.env):
        c = client(Paths(own.root))
        versions = [str(mlflow.register_model(f"runs:/{own.run_id}/model", side).version)
                    for _ in range(2)]  # fmt: skip
        c.set_registered_model_alias(side, "champion", versions[0])
        app = create_app(ServeSettings(own.params, Paths(own.root), "secret"))
        with TestClient(app) as http:
            wait_ready(http)
            before = http.post(f"/use-cases/{side}/predict", json=record)
            assert before.status_code == 200, before.text
            promote(Paths(own.root, side), side, versions[1])
            seen, deadline = before.json()["model_version"], time.monotonic() + 60
            while seen != versions[1] and time.monotonic() < deadline:
                time.sleep(0.1)
                seen = http.post(f"/use-cases/{side}/predict", json=record).json()["model_version"]
    assert (before.json()["model_version"], seen) == tuple(versions)


def _first_record(project: Project) -> dict[str, object]:
    """One holdout row as an API record (nulls as None)."""
    import pandas as pd

    frame = pd.read_parquet(project.root / "data" / "processed" / "holdout.parquet")
    feats = frame[list(project.params.data.features)].head(1).astype(object)
    feats = feats.where(feats.notna(), None)
    return {str(k): v for k, v in feats.to_dict("records")[0].items()}
