"""The pipeline's current data version on disk, kept aside while a retrain tries a new one.

A retrain writes the new labelled window into data/validated, re-splits, trains and evaluates.
When its challenger is not promoted (or the run fails), the champion's data must come back:
monitoring compares new windows with the reference the champion was trained on and its
performance with the champion's holdout figures. `kept_aside` copies the training data, the
reference, the stage reports and dvc.lock before, and puts them back unless told to keep
the new state, so `dvc status` stays clean either way (the old objects are in the DVC cache).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lifecycle.paths import Paths


def state_files(paths: Paths) -> tuple[Path, ...]:
    """What a retrain rewrites: validated data, split, reference, stage reports, dvc.lock."""
    return (
        paths.validated,
        paths.train_set.parent,
        paths.reference.parent,
        paths.validation_report,
        paths.train_report,
        paths.metrics,
        paths.promotion,
        paths.plots,
        paths.root / "dvc.lock",
    )


@dataclass
class KeptState:
    """A copy of the pipeline state; `keep()` says the new state stays (e.g. on a promotion)."""

    paths: Paths
    copy: Path
    kept: bool = field(default=False)

    def keep(self) -> None:
        """The new data and reports stay: the retrain's challenger became the champion."""
        self.kept = True

    def restore(self) -> None:
        """Put every saved path back as it was; paths that did not exist before are removed."""
        for source in state_files(self.paths):
            saved = self.copy / source.relative_to(self.paths.root)
            _remove(source)
            if saved.is_dir():
                shutil.copytree(saved, source)
            elif saved.exists():
                source.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(saved, source)


@contextmanager
def kept_aside(paths: Paths) -> Iterator[KeptState]:
    """Save the pipeline state; restore it on exit unless `keep()` was called (or on error)."""
    with tempfile.TemporaryDirectory(prefix="lifecycle-state-") as tmp:
        state = KeptState(paths, Path(tmp))
        for source in state_files(paths):
            target = state.copy / source.relative_to(paths.root)
            if source.is_dir():
                shutil.copytree(source, target)
            elif source.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        try:
            yield state
        except BaseException:
            state.restore()
            raise
        if not state.kept:
            state.restore()


def _remove(path: Path) -> None:
    """Delete a file or folder if it is there."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
