"""`lifecycle forget <id>`: exit 0 when erased (or erased before), 1 for an id never seen."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from lifecycle.cli import app
from tests.unit.test_forget import WHO, _stores


def test_forget_command_erases_then_says_already_and_refuses_unknown(project: Path) -> None:
    """The first call lists the rewritten data; the second says already erased; unknown: 1."""
    _stores(project)
    first = CliRunner().invoke(app, ["forget", WHO])
    assert first.exit_code == 0, first.output
    assert (
        "erasure of p_" in first.output and "rewritten: data/raw/snapshot.parquet" in first.output
    )
    assert WHO not in first.output
    again = CliRunner().invoke(app, ["forget", WHO])
    assert again.exit_code == 0 and "already erased on" in again.output, again.output
    unknown = CliRunner().invoke(app, ["forget", "nobody-42"])
    assert unknown.exit_code == 1 and "no record of this id" in unknown.output
    assert "nobody-42" not in unknown.output
