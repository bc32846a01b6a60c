"""use_cases/dvc.yaml is the root pipeline once per use case: the same stages, outputs, params."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
PREFIX = "env -u LIFECYCLE_PARAMS LIFECYCLE_HOME=../.. lifecycle --use-case ${item} "


def _load(path: Path) -> dict[str, Any]:
    """A YAML file as a mapping."""
    found = yaml.safe_load(path.read_text())
    assert isinstance(found, dict)
    return found


def test_every_root_stage_runs_for_each_use_case_in_its_own_folder() -> None:
    """Same stage names and sections; the command names the use case; sources from the root."""
    root = _load(REPO / "dvc.yaml")["stages"]
    per_case = _load(REPO / "use_cases" / "dvc.yaml")
    assert per_case["vars"] == ["index.yaml"]
    assert list(per_case["stages"]) == list(root)
    for name, stage in root.items():
        each = per_case["stages"][name]
        assert each["foreach"] == "${use_cases}"
        do = dict(each["do"])
        assert do.pop("wdir") == "${item}"
        assert do.pop("cmd") == stage["cmd"].replace("lifecycle ", PREFIX, 1), name
        deps = [d.removeprefix("../../") for d in do.pop("deps", [])]
        assert deps == stage.get("deps", []), name
        assert do == {k: v for k, v in stage.items() if k not in ("cmd", "deps")}, name


def test_the_index_lists_no_use_case_in_the_repository() -> None:
    """The repository's checkout holds only the default use case (`lifecycle new` adds more)."""
    assert _load(REPO / "use_cases" / "index.yaml") == {"use_cases": []}
