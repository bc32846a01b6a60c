"""Every use case's champion from one service: a `ServiceState` per use case, made on first use.

The service's own use case (the root's, "default", unless it was started with --use-case) is
the app's state; any other is built from use_cases/<name>/params.yaml the first time a request
names it, and its champion loads then (in a thread, off the event loop). Each state scores with
its own schema and threshold and writes its own prediction log (use_cases/<name>/data/
predictions, durable before the answer leaves), so `monitor --use-case <name>` reads it.
Promotions and rollbacks reach them as they reach the app's own use case: the app's watch loop
reads each served use case's alias-moved signal (`lifecycle.alias_signal`); the alias is also
re-resolved at most every `serving.poll_seconds` per use case, as the fallback.

Each use case served has its own serving-period ledger row (the app's meter writes them, the
period's uptime and CPU split by predictions), its own outcome store (/use-cases/<name>/
feedback), and its own challenger on live traffic as its params say: a shadow (which waits
while any request of the process is answered) and a canary share (/use-cases/<name>/admin/
canary), and its own Prometheus registry (/use-cases/<name>/metrics: predictions, model,
variants, shadow, canary, drift; the HTTP series are the app's, on /metrics).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from pathlib import Path

from lifecycle.config import load_params
from lifecycle.paths import DEFAULT_USE_CASE, USE_CASES_DIR, Paths
from lifecycle.serve.model_holder import LoadedModel
from lifecycle.serve.state import ServeSettings, ServiceState

log = logging.getLogger("lifecycle.serve")
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"


class UnknownUseCaseError(LookupError):
    """A use case this checkout does not hold (no params file)."""


def params_file(root: Path, name: str) -> Path:
    """Where a use case's params live (the root's for the default use case)."""
    if name == DEFAULT_USE_CASE:
        return root / "params.yaml"
    return root / USE_CASES_DIR / name / "params.yaml"


class UseCases:
    """The service's use cases by name: the app's own state, the others built on first use."""

    def __init__(self, main: ServiceState) -> None:
        """Nothing loads here: a use case is built the first time a request names it."""
        self.main = main
        self.root = main.settings.paths.root
        self.main_name = main.settings.paths.use_case_name
        self._states: dict[str, ServiceState] = {}
        self._checked: dict[str, float] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        """Every use case this checkout holds (default first), served or not."""
        folder = self.root / USE_CASES_DIR
        found = sorted(p.parent.name for p in folder.glob("*/params.yaml"))
        return [DEFAULT_USE_CASE, *found]

    def loaded(self) -> dict[str, ServiceState]:
        """The use cases with a state so far (the app's own always)."""
        with self._lock:
            return {self.main_name: self.main, **self._states}

    def state(self, name: str) -> ServiceState:
        """The use case's state, built on first use (params read and validated then)."""
        if name == self.main_name:
            return self.main
        with self._lock:
            found = self._states.get(name)
            if found is not None:
                return found
            path = params_file(self.root, name)
            if not path.is_file():
                raise UnknownUseCaseError(
                    f"use case {name!r}: no params at {path} (`lifecycle new {name} ...` makes it)"
                )
            base = self.main.settings
            settings = ServeSettings(
                load_params(path),
                Paths(self.root, None if name == DEFAULT_USE_CASE else name),
                base.admin_token,
                base.alias,
                record_ledger=False,
                viewer_token=base.viewer_token,
                outcomes_token=base.outcomes_token,
            )
            found = ServiceState(settings)
            found.share_traffic(self.main)
            found.start_parts()  # its log writer, shadow and batcher (stopped by the lifespan)
            self._states[name] = found
            self.main.side[name] = found  # its serving rows: written by the app's meter
            return found

    async def model(self, name: str, state: ServiceState) -> LoadedModel | None:
        """The use case's champion: loaded on first use, then polled (the signal is followed by
        the app's watch loop; the app's own use case by the app itself)."""
        if state is self.main:
            return state.holder.current
        now = time.monotonic()
        due = now - self._checked.get(name, -1e18) >= state.settings.params.serving.poll_seconds
        if state.holder.current is None or due:
            self._checked[name] = now
            try:
                await asyncio.to_thread(state.holder.refresh)
            except Exception as err:  # a registry or load failure keeps the old model serving
                state.holder.last_error = f"{type(err).__name__}: {err}"
                log.warning("use case %s: model refresh failed: %s", name, err)
            if state.wants_challenger:  # shadow or canary: its challenger too
                await state.refresh_challenger()
        return state.holder.current
