"""Notifications through a real Prefect server's automations to a webhook the test listens on."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lifecycle.orchestration.notify import create_automations, notify
from lifecycle.orchestration.runtime import run_id, setup
from lifecycle.orchestration.stage import stage_run
from lifecycle.system import free_port

pytestmark = pytest.mark.slow


class Receiver:
    """A local webhook: every JSON body POSTed to it, in order."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", "0"))
                received.append(json.loads(self.rfile.read(size) or b"{}"))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def about(self, text: str, timeout: float = 180.0) -> list[dict[str, Any]]:
        """The messages whose body mentions text, waiting for the first (then a grace period)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in str(b.get("body")) for b in self.bodies):
                time.sleep(5)  # a duplicate would arrive within the same evaluation
                break
            time.sleep(0.5)
        return [b for b in self.bodies if text in str(b.get("body"))]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The receiver, serving in a thread for the test."""
    found = Receiver()
    thread = threading.Thread(target=found.server.serve_forever, daemon=True)
    thread.start()
    yield found
    found.server.shutdown()
    found.server.server_close()


def _failing(marker: str) -> None:
    """A staged flow that fails with marker in its error."""
    from prefect import flow

    @flow(name="notify-failing")
    def failing() -> None:
        with stage_run("train", "development", "manual", None) as stage, stage.ledger():
            raise RuntimeError(f"boom {marker}")

    with pytest.raises(RuntimeError, match=marker):
        failing()


def _drifting(marker: str) -> str:
    """A staged flow that reports drift (as the monitor flow does); its run id."""
    from prefect import flow

    @flow(name="notify-drifting")
    def drifting() -> str:
        with stage_run("monitor", "maintenance", "manual", None) as stage, stage.ledger():
            pass
        notify(
            "drift", stage.params, stage.paths, "monitor", marker, stage.cost.total_usd, run_id()
        )
        return run_id()

    return drifting()


def test_a_failed_flow_and_a_drift_each_page_once(
    prefect_api: str, project: Path, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Automations from params; the failure names flow, reason, run URL and cost; one message."""
    monkeypatch.setenv("LIFECYCLE_NOTIFY_WEBHOOK_URL", receiver.url)
    params, paths = setup(None)
    made = create_automations(params, paths)
    assert set(made) == set(params.notifications.events)
    again = create_automations(params, paths)  # made again: replaced, never doubled
    assert set(again) == set(made) and not set(again.values()) & set(made.values())

    _failing("m-4711")
    found = receiver.about("m-4711")
    assert len(found) == 1, f"expected one message, got: {receiver.bodies}"
    message = found[0]
    assert message["subject"].endswith("flow failed")
    body = message["body"]
    assert body.startswith("train: RuntimeError: boom m-4711")
    assert "/runs/flow-run/" in body and "cost so far: $0." in body

    drift_run = _drifting("drift in window w-9")
    found = receiver.about("drift in window w-9")
    assert len(found) == 1, f"expected one drift message, got: {receiver.bodies}"
    drift = found[0]
    assert drift["subject"].endswith("drift") and drift_run in drift["body"]


def test_an_unreachable_webhook_fails_no_flow(
    prefect_api: str,
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Nothing listens: a warning when the automations are made; flows end as they would."""
    monkeypatch.setenv("LIFECYCLE_NOTIFY_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}/hook")
    params, paths = setup(None)
    with caplog.at_level(logging.WARNING, logger="lifecycle.orchestration.notify"):
        made = create_automations(params, paths)
    assert made and "does not answer" in caplog.text
    _failing("m-unreachable")  # its own error, nothing about the webhook
    assert _drifting("quiet drift")
