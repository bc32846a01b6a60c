"""The loop refuses a project it cannot run before it starts anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.config import Params
from lifecycle.paths import Paths
from lifecycle.simulate.loop import simulate
from lifecycle.simulate.plan import SimulationError, make_plan


def test_a_project_without_batches_is_a_clear_error(params: Params, tmp_path: Path) -> None:
    with pytest.raises(SimulationError, match=r"month 1: batch .*month_01.parquet' does not exist"):
        simulate(params, Paths(tmp_path), make_plan(params, 2))
