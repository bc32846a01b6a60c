"""Rollback through the alias history (N steps, to a version) and the override it then needs.

Runs on a real MLflow SQLite store with registered versions that carry only an MLmodel file
with an input signature (what a release checks): the aliases, tags and history are the
registry's, no training is needed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from lifecycle.config import Params, load_params
from lifecycle.environments import ReleaseError, approve, promote_staging, version_in
from lifecycle.paths import Paths
from lifecycle.registry import (
    CHAMPION,
    PREVIOUS,
    RegistryError,
    alias_history,
    client,
    promote,
    rollback,
    rollback_block,
    version_by_alias,
)


def _registered(project: Path, versions: int) -> tuple[Params, Paths]:
    params, paths = load_params(project / "params.yaml"), Paths(project)
    c = client(paths)
    name = params.mlflow.model_name
    c.create_registered_model(name)
    model = project / "no-model"
    model.mkdir(exist_ok=True)
    (model / "MLmodel").write_text(
        "artifact_path: model\nflavors: {}\nsignature:\n"
        '  inputs: \'[{"type": "double", "name": "tenure", "required": true}]\'\n'
        "  outputs: null\n"
    )
    for _ in range(versions):
        c.create_model_version(name, source=model.as_uri())
    return params, paths


def _at(paths: Paths, name: str, alias: str) -> str | None:
    found = version_by_alias(paths, name, alias)
    return None if found is None else str(found.version)


def test_rollback_goes_back_several_steps_and_marks_the_demoted(project: Path) -> None:
    params, paths = _registered(project, 4)
    name = params.mlflow.model_name
    for v in ("1", "2", "3", "4"):
        promote(paths, name, v)
    c = client(paths)
    assert alias_history(c, name, CHAMPION) == ["1", "2", "3", "4"]
    assert _at(paths, name, PREVIOUS) == "3"

    move = rollback(paths, name, steps=2)
    assert (move.champion, move.previous) == ("2", "4")
    assert _at(paths, name, CHAMPION) == "2" and _at(paths, name, PREVIOUS) == "1"
    assert alias_history(c, name, CHAMPION) == ["1", "2"]
    assert c.get_model_version(name, "4").tags["rolled_back"] == "true"
    assert c.get_model_version(name, "4").tags["rolled_back_to"] == "2"
    assert "rolled_back" not in c.get_model_version(name, "3").tags  # skipped, not judged

    with pytest.raises(RegistryError, match=r"cannot go back 2 step\(s\).*\(v1, v2\)"):
        rollback(paths, name, steps=2)
    with pytest.raises(RegistryError, match="v3 was not an earlier @champion"):
        rollback(paths, name, to_version="3")
    back = rollback(paths, name, to_version="1")
    assert back.champion == "1" and _at(paths, name, PREVIOUS) is None
    with pytest.raises(RegistryError, match="no @previous version to roll back to"):
        rollback(paths, name)


def test_history_is_completed_from_aliases_moved_without_it(project: Path) -> None:
    """A store whose aliases were set before the history existed still rolls back one step."""
    params, paths = _registered(project, 2)
    name = params.mlflow.model_name
    c = client(paths)
    c.set_registered_model_alias(name, PREVIOUS, "1")
    c.set_registered_model_alias(name, CHAMPION, "2")
    assert alias_history(c, name, CHAMPION) == []
    assert rollback(paths, name).champion == "1"
    assert alias_history(c, name, CHAMPION) == ["1"]


def test_a_rolled_back_version_needs_an_override_with_a_reason(project: Path) -> None:
    params, paths = _registered(project, 2)
    name = params.mlflow.model_name
    c = client(paths)
    promote_staging(params, paths, "1")
    approve(params, paths, "1", "alice", charge=False)
    promote_staging(params, paths, "2")
    approve(params, paths, "2", "alice", charge=False)
    rollback(paths, name)
    assert version_in(params, paths, "production") == "1"
    assert rollback_block(c.get_model_version(name, "2").tags) is not None

    with pytest.raises(ReleaseError, match=r"v2 may not be released again: it was rolled back"):
        promote_staging(params, paths, "2")
    with pytest.raises(ReleaseError, match="--override-rollback"):
        approve(params, paths, "2", "bob", charge=False)  # staging still holds v2
    with pytest.raises(ReleaseError, match="may not be released again"):
        promote_staging(params, paths, "2", override="   ")
    assert version_in(params, paths, "production") == "1"

    promote_staging(params, paths, "2", override="fixed the scaler bug", by="bob")
    tags = c.get_model_version(name, "2").tags
    assert tags["rollback_override"] == "bob: fixed the scaler bug"
    assert rollback_block(tags) is None
    approve(params, paths, "2", "carol", charge=False)
    assert version_in(params, paths, "production") == "2"
    assert alias_history(c, name, CHAMPION) == ["1", "2"]

    # a second rollback blocks it again: the override was for the first one
    rollback(paths, name)
    assert rollback_block(c.get_model_version(name, "2").tags) is not None


def test_cli_rollback_steps_and_to_version(project: Path) -> None:
    from lifecycle.cli import app

    params, paths = _registered(project, 3)
    name = params.mlflow.model_name
    for v in ("1", "2", "3"):
        promote(paths, name, v)
    runner = CliRunner()
    bad = runner.invoke(app, ["rollback", "--steps", "3"])
    assert bad.exit_code == 1 and "cannot go back 3 step(s)" in bad.output, bad.output
    ok = runner.invoke(app, ["rollback", "--to-version", "1"])
    assert ok.exit_code == 0, ok.output
    assert "champion is v1 again (v3 demoted)" in ok.output
    assert _at(paths, name, CHAMPION) == "1"
