"""The layer contracts stay whole: docs show them as written, forbidden lists cover every module."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "lifecycle"
CONTRACTS: list[dict[str, Any]] = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"][
    "importlinter"
]["contracts"]


def contract(key: str) -> dict[str, Any]:
    """One contract by its id."""
    return next(c for c in CONTRACTS if c["id"] == key)


def names(layer: str, optional: bool = True) -> list[str]:
    """The modules of one layer string ("a : b", "a | b", "(c)" optional), without markup."""
    found = [n.strip() for n in layer.replace("|", ":").split(":")]
    return [n.strip("()") for n in found if optional or not n.startswith("(")]


def exists(name: str) -> bool:
    """Whether lifecycle.<name> is a module or a package today."""
    return (PACKAGE / f"{name}.py").is_file() or (PACKAGE / name / "__init__.py").is_file()


@pytest.mark.parametrize("key", [c["id"] for c in CONTRACTS if c["type"] == "layers"])
def test_docs_show_each_layers_contract_as_written(key: str) -> None:
    block = "\n".join([f"[{key}]", *contract(key)["layers"]])
    assert block in (REPO / "docs" / "architecture.md").read_text(), (
        f"docs/architecture.md does not show the contract {key!r}, top to bottom, as:\n{block}"
    )


def test_every_module_of_the_package_has_a_layer() -> None:
    placed = {n for layer in contract("layers")["layers"] for n in names(layer)}
    found = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"} | {
        p.parent.name for p in PACKAGE.glob("*/__init__.py")
    }
    assert found - placed == set(), "add these modules to a layer of the 'layers' contract"


@pytest.mark.parametrize(
    ("key", "exempt"), [("no-drivers-below", set()), ("prefect-in-drivers", {"ledger"})]
)
def test_forbidden_contracts_cover_every_domain_and_core_module(key: str, exempt: set[str]) -> None:
    # a forbidden contract can only name modules that exist: optional ones "(x)" wait until
    # they do (then the parentheses go and the module joins the lists)
    domain, core = contract("layers")["layers"][2:]
    below = {n for n in names(domain, False) + names(core, False) if exists(n)} - exempt
    sources = {m.removeprefix("lifecycle.") for m in contract(key)["source_modules"]}
    assert below - sources == set(), f"add these to {key!r}'s source_modules"
    assert sources - below == set(), f"{key!r} names modules that are not domain or core"
