"""A retrain that does not win leaves the champion's data, reports and dvc.lock as they were."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.paths import Paths
from lifecycle.pipeline_state import kept_aside


def _project(root: Path) -> Paths:
    """A project whose pipeline state is a few small files."""
    paths = Paths(root)
    for path, text in (
        (paths.validated, "old data"),
        (paths.train_set, "old train"),
        (paths.holdout_set, "old holdout"),
        (paths.reference, "old reference"),
        (paths.metrics, '{"v": 1}'),
        (paths.plots / "roc.json", "old roc"),
        (root / "dvc.lock", "old lock"),
    ):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return paths


def _rewrite(paths: Paths) -> None:
    """What a retrain does: new data, a new split, new reports, and a file that was not there."""
    paths.validated.write_text("new data")
    paths.holdout_set.write_text("new holdout")
    paths.reference.write_text("new reference")
    (paths.plots / "roc.json").write_text("new roc")
    paths.promotion.write_text("new decision")
    (paths.root / "dvc.lock").write_text("new lock")


def test_a_lost_retrain_puts_everything_back(tmp_path: Path) -> None:
    paths = _project(tmp_path)
    with kept_aside(paths):
        _rewrite(paths)
    assert paths.validated.read_text() == "old data"
    assert paths.holdout_set.read_text() == "old holdout"
    assert paths.reference.read_text() == "old reference"
    assert (paths.plots / "roc.json").read_text() == "old roc"
    assert (tmp_path / "dvc.lock").read_text() == "old lock"
    assert not paths.promotion.exists()  # it did not exist before the retrain


def test_a_won_retrain_keeps_the_new_state(tmp_path: Path) -> None:
    paths = _project(tmp_path)
    with kept_aside(paths) as state:
        _rewrite(paths)
        state.keep()
    assert paths.validated.read_text() == "new data"
    assert paths.reference.read_text() == "new reference"
    assert (tmp_path / "dvc.lock").read_text() == "new lock"


def test_a_crash_restores_even_after_keep(tmp_path: Path) -> None:
    paths = _project(tmp_path)

    def crashing_retrain() -> None:
        with kept_aside(paths) as state:
            _rewrite(paths)
            state.keep()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        crashing_retrain()
    assert paths.validated.read_text() == "old data"
    assert paths.train_set.read_text() == "old train"
