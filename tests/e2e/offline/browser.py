"""Headless Chromium with the network cut: every request off this machine is aborted, counted."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
LOCAL_SCHEMES = frozenset({"file", "data", "blob", "about"})
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update"]  # fmt: skip

needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and os.environ.get("CI", "").lower() != "true",
    reason=f"{CHROMIUM} not installed (apt-get install chromium)",
)


@dataclass
class Cut:
    """What the page tried to reach outside, and the errors it raised."""

    aborted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def is_local(url: str) -> bool:
    """Loopback or a file: the only places an offline page may load from."""
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or (parts.hostname or "") in LOCAL_HOSTS


@contextmanager
def offline_page() -> Iterator[tuple[object, Cut]]:
    """A Chromium page whose requests to any other host are aborted and recorded."""
    from playwright.sync_api import Route, sync_playwright

    cut = Cut()

    def gate(route: Route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            cut.aborted.append(route.request.url)
            route.abort("internetdisconnected")

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1600})
            page.route("**/*", gate)
            page.on("pageerror", lambda e: cut.errors.append(str(e)))
            yield page, cut
        finally:
            browser.close()
