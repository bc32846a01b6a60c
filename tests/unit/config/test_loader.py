"""Config: the repository's params load; every broken file fails with the key, value and rule."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from lifecycle.config import ConfigError, load_params, parse_params


def _broken(raw: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    node = out
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def test_repository_params_load(repo_params_mapping: dict[str, Any]) -> None:
    params = parse_params(repo_params_mapping)
    assert params.data.target in repo_params_mapping["data"]["target"]
    assert len(params.train.candidates) >= 3
    assert set(params.data.features) == set(params.data.numeric) | set(params.data.categorical)
    with pytest.raises(Exception, match="frozen"):
        params.data.target = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (["data", "target"], KeyError, r"data\.target = <missing>: Field required"),
        (["split", "holdout_size"], "a quarter", r"split\.holdout_size = 'a quarter'"),
        (["split", "holdout_size"], 1.5, r"split\.holdout_size = 1\.5: .*less than 1"),
        (["train", "cv_folds"], 1, r"train\.cv_folds = 1: .*greater than or equal to 2"),
        (["campaign", "acceptance_rate"], -0.1, r"campaign\.acceptance_rate = -0\.1"),
        (["train", "selection_metric"], "accuracy", r"train\.selection_metric = 'accuracy'"),
        (["data", "unknown_key"], 3, r"data\.unknown_key = 3: Extra inputs are not permitted"),
        (["validation", "ranges", "tenure"], [10, 1], r"low 10\.0 is above high 1\.0"),
        (["validation", "ranges", "no_such_col"], [0, 1], r"not in data: \['no_such_col'\]"),
        (["data", "positive_label"], "Maybe", r"positive_label 'Maybe' is not one of"),
        (["data", "id_column"], "score", r"reserved by the prediction log: \['score'\]"),
    ],
)
def test_bad_values_name_key_value_and_rule(
    repo_params_mapping: dict[str, Any], path: list[str], value: Any, expected: str
) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse_params(_broken(repo_params_mapping, path, value))


def test_candidate_with_unknown_family_is_named(repo_params_mapping: dict[str, Any]) -> None:
    raw = copy.deepcopy(repo_params_mapping)
    raw["train"]["candidates"][1]["family"] = "deep_net"
    with pytest.raises(ConfigError, match=r"train\.candidates\.1\.family = 'deep_net'"):
        parse_params(raw)


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="params file not found"):
        load_params(tmp_path / "nope.yaml")
    bad = tmp_path / "params.yaml"
    bad.write_text("data: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_params(bad)
    bad.write_text(yaml.safe_dump([1, 2]))
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_params(bad)


def test_section_hash_tracks_changes(repo_params_mapping: dict[str, Any]) -> None:
    a = parse_params(repo_params_mapping)
    b = parse_params(_broken(repo_params_mapping, ["campaign", "contact_cost"], 99.0))
    assert a.section_hash("train") == b.section_hash("train")
    assert a.section_hash("campaign") != b.section_hash("campaign")
