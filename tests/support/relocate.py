"""Copy a trained project to a new folder, cheaper than training it again.

MLflow (and DVC's remote) keep absolute paths, so the copy rewrites the old folder's path to the
new one in every SQLite database and small text file; the copy then shares nothing with the
original, which stays pristine for the next copy.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
TEXT_LIMIT = 2_000_000  # bytes; larger files are data (parquet, models), never path holders


def copy_tree(src: Path, dest: Path) -> Path:
    """Copy src to dest (which must not exist) with every absolute path to src made dest's."""
    shutil.copytree(src, dest, symlinks=True)
    old, new = str(src), str(dest)
    for path in sorted(p for p in dest.rglob("*") if p.is_file() and not p.is_symlink()):
        with path.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
        if head == SQLITE_HEADER:
            _rewrite_sqlite(path, old, new)
        elif path.stat().st_size <= TEXT_LIMIT:
            _rewrite_text(path, old, new)
    return dest


def _rewrite_text(path: Path, old: str, new: str) -> None:
    """Replace old with new in a UTF-8 text file (binary files are left alone)."""
    data = path.read_bytes()
    if old.encode() not in data:
        return
    try:
        text = data.decode()
    except UnicodeDecodeError:
        return
    path.write_text(text.replace(old, new))


def _rewrite_sqlite(path: Path, old: str, new: str) -> None:
    """Replace old with new in every text column of every table of a SQLite database."""
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for column in con.execute(f'PRAGMA table_info("{table}")').fetchall():
                name, kind = column[1], str(column[2]).upper()
                if kind and not any(t in kind for t in ("CHAR", "TEXT", "CLOB")):
                    continue
                con.execute(
                    f'UPDATE "{table}" SET "{name}" = replace("{name}", ?, ?) '
                    f'WHERE typeof("{name}") = \'text\' AND instr("{name}", ?) > 0',
                    (old, new, old),
                )
        con.commit()
    finally:
        con.close()
