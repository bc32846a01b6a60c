"""The alias-moved signal: each announcement changes the file's identity, readers see it whole."""

from __future__ import annotations

from pathlib import Path

from lifecycle.alias_signal import announce, last_move, signal_file, stamp
from lifecycle.paths import Paths


def test_each_announcement_is_seen_and_read_whole(tmp_path: Path) -> None:
    """No file: no stamp; every announce gives a new stamp and the move it names."""
    paths = Paths(tmp_path)
    path = signal_file(paths, "m")
    assert stamp(path) is None and last_move(path) is None
    seen = set()
    for i in range(20):
        announce(paths, "m", "champion", str(i))
        now = stamp(path)
        assert now is not None and now not in seen
        seen.add(now)
        move = last_move(path)
        assert move is not None and (move["alias"], move["version"]) == ("champion", str(i))
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left


def test_an_unwritable_folder_never_fails_the_alias_move(tmp_path: Path) -> None:
    """The registry already moved: a signal that cannot be written is skipped (polling stays)."""
    (tmp_path / "data").write_text("a file where the folder should be")
    announce(Paths(tmp_path), "m", "champion", "3")
    assert stamp(signal_file(Paths(tmp_path), "m")) is None
