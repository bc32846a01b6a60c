"""`lifecycle ledger dashboard` in its own process, and a Chromium page that records what a
dashboard page got wrong: the two e2e dashboard tests' shared set-up."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from lifecycle.system import free_port
from tests.e2e.offline.browser import BROWSER_ARGS, CHROMIUM
from tests.support.ledger_fixtures import PARAMS_FILE


@contextmanager
def dashboard_process(url: str, log: Path) -> Iterator[str]:
    """The dashboard over the ledger at `url`, up on a free loopback port; its base URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "lifecycle.cli", "ledger", "dashboard", "--port", str(port),
           "--url", url, "--params", str(PARAMS_FILE)]  # fmt: skip
    with log.open("wb") as sink:
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.STDOUT, env=dict(os.environ))
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/ledger", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            raise AssertionError(f"dashboard not up in 60 s: {log.read_text()}")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@dataclass
class Seen:
    """What the page logged as errors and which requests left the served origin."""

    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


@contextmanager
def dashboard_page(base: str) -> Iterator[tuple[Any, Seen]]:
    """A headless Chromium page (1400x1000) that records console errors and foreign requests."""
    from playwright.sync_api import sync_playwright

    seen = Seen()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: seen.errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: seen.errors.append(str(e)))
            page.on(
                "request",
                lambda r: seen.outside.append(r.url) if not r.url.startswith(base) else None,
            )
            yield page, seen
        finally:
            browser.close()


def show(page: Any, url: str, shot: Path) -> None:
    """Open a dashboard page, wait until it has drawn (body[data-ready]), keep a screenshot."""
    page.goto(url, wait_until="load")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    page.screenshot(path=str(shot), full_page=True)
