"""Record what a flow produced in dvc.lock (`dvc commit`) and push it, so DVC stays the version."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lifecycle.paths import Paths


class DvcError(RuntimeError):
    """A dvc command failed; the message carries its output."""


def is_dvc_project(paths: Paths) -> bool:
    """True when the root holds a DVC repository and a pipeline (of the default use case)."""
    if paths.use_case:  # dvc.yaml's stages write the default use case's files only
        return False
    return (paths.root / ".dvc").is_dir() and (paths.root / "dvc.yaml").is_file()


def dvc(paths: Paths, *args: str) -> str:
    """Run one dvc command at the root (waiting for the repo lock); its output."""
    exe = Path(sys.executable).with_name("dvc")
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    env.setdefault("DVC_SITE_CACHE_DIR", str(paths.root / ".dvc" / "site-cache"))
    done = subprocess.run(
        [str(exe), "--wait-for-lock", *args],
        cwd=paths.root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise DvcError(f"dvc {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def has_remote(paths: Paths) -> bool:
    """True when a default remote is configured."""
    try:
        return bool(dvc(paths, "remote", "default").strip())
    except DvcError:  # dvc answers "no default remote set" with an error
        return False


def record(paths: Paths, stages: tuple[str, ...]) -> tuple[str, ...]:
    """`dvc commit -f` the stages a flow ran, then push them; the stages recorded."""
    if not stages or not is_dvc_project(paths):
        return ()
    dvc(paths, "commit", "--force", *stages)
    if has_remote(paths):
        dvc(paths, "push", *stages)
    return stages


def status_clean(paths: Paths) -> bool:
    """True when dvc.lock matches every stage's deps, params and outputs on disk."""
    out = dvc(paths, "status", "--json").strip()
    return out in ("", "{}")
