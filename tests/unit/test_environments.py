"""Environment overlays over params.yaml, and the release section's rules."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from lifecycle.config import ConfigError, load_params_for, overlay_path, parse_params
from lifecycle.environments import ReleaseError, alias_for, current_env

REPO = Path(__file__).resolve().parents[2]


def _write(root: Path, raw: dict[str, Any], **overlays: dict[str, Any]) -> Path:
    base = root / "params.yaml"
    base.write_text(yaml.safe_dump(raw))
    for env, body in overlays.items():
        overlay_path(base, env).write_text(yaml.safe_dump(body))
    return base


def test_repository_overlays_require_approval_in_production() -> None:
    base = load_params_for(None, REPO / "params.yaml")
    assert not base.release.production.requires_approval
    for env in ("staging", "production"):
        merged = load_params_for(env, REPO / "params.yaml")
        assert merged.release.production.requires_approval
        # a deep merge: the rest of the section and the file are kept
        assert merged.release.production.alias == "champion"
        assert merged.train == base.train


def test_overlay_merges_deeply_and_lists_replace(
    tmp_path: Path, repo_params_mapping: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = copy.deepcopy(repo_params_mapping)
    base = _write(
        tmp_path,
        raw,
        staging={"serving": {"max_records": 7}, "fairness": {"sensitive": ["female"]}},
    )
    monkeypatch.setenv("LIFECYCLE_ENV", "staging")
    merged = load_params_for(path=base)
    assert merged.serving.max_records == 7
    assert merged.serving.poll_seconds == parse_params(raw).serving.poll_seconds
    assert merged.fairness.sensitive == ("female",)
    monkeypatch.delenv("LIFECYCLE_ENV")
    assert load_params_for(path=base).serving.max_records == parse_params(raw).serving.max_records


def test_overlay_errors(tmp_path: Path, repo_params_mapping: dict[str, Any]) -> None:
    base = _write(tmp_path, repo_params_mapping, staging={"serving": {"max_records": 0}})
    with pytest.raises(ConfigError, match=r"params\.production\.yaml: the overlay"):
        load_params_for("production", base)
    with pytest.raises(ConfigError, match="must be one of"):
        load_params_for("qa", base)
    with pytest.raises(ConfigError, match=r"serving\.max_records"):
        load_params_for("staging", base)


def test_aliases_must_differ(repo_params_mapping: dict[str, Any]) -> None:
    raw = copy.deepcopy(repo_params_mapping)
    raw["release"]["staging"] = {"alias": "champion"}
    with pytest.raises(ConfigError, match="release aliases must all differ"):
        parse_params(raw)
    raw["release"]["staging"] = {"alias": "challenger"}
    with pytest.raises(ConfigError, match="challenger"):
        parse_params(raw)


def test_alias_for_environment(
    repo_params_mapping: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    params = parse_params(repo_params_mapping)
    monkeypatch.delenv("LIFECYCLE_ENV", raising=False)
    assert current_env() == "production" and alias_for(params) == "champion"
    monkeypatch.setenv("LIFECYCLE_ENV", "staging")
    assert alias_for(params) == "staging"
    monkeypatch.setenv("LIFECYCLE_ENV", "qa")
    with pytest.raises(ReleaseError, match="LIFECYCLE_ENV"):
        current_env()
