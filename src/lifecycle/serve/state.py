"""What one app shares between its routes and its background tasks: the service state.

`ServiceState` holds the champion's and challenger's holders, the schema, the metrics, the
batcher, the prediction log, the shadow scorer, the canary and the serving period the ledger
prices; it scores a request (canary split included) and writes its answer. It starts nothing:
the app's lifespan (`lifecycle.serve.app`) starts and stops its parts.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import Response

from lifecycle.alias_signal import last_move, signal_file, stamp
from lifecycle.config import Params, load_params
from lifecycle.config.contract import column_rules, violations
from lifecycle.monitor.report import latest_worst_drift
from lifecycle.paths import Paths
from lifecycle.predictions import predictions_dir
from lifecycle.privacy import masker
from lifecycle.serve.batcher import MicroBatcher
from lifecycle.serve.canary import CANARY, CHAMPION, Canary, split
from lifecycle.serve.metrics import ServiceMetrics
from lifecycle.serve.model_holder import LoadedModel, ModelCache, ModelHolder
from lifecycle.serve.outcomes import OutcomeStore
from lifecycle.serve.periods import record_periods
from lifecycle.serve.predlog import Entry, PredictionLog
from lifecycle.serve.schema import RequestSchema, build_schema
from lifecycle.serve.shadow import ShadowScorer
from lifecycle.serve.shadow_lines import ShadowedLines
from lifecycle.settings import get_settings
from lifecycle.system import cpu_seconds

log = logging.getLogger("lifecycle.serve")
INLINE_LOG_ROWS = 64  # answers up to this many records write their log lines on the event loop


@dataclass(frozen=True)
class ServeSettings:
    """What one app needs: params, the project root, the role tokens (never shown)."""

    params: Params
    paths: Paths
    admin_token: str | None = field(default=None, repr=False)
    alias: str = "champion"
    record_ledger: bool = True
    viewer_token: str | None = field(default=None, repr=False)
    outcomes_token: str | None = field(default=None, repr=False)
    load_first: bool = False  # the lifespan waits for the model: no traffic before it is loaded

    @classmethod
    def from_env(cls, params_file: str | None = None) -> ServeSettings:
        """Params from LIFECYCLE_PARAMS, root from LIFECYCLE_HOME, the two role tokens."""
        return cls(
            load_params(params_file),
            Paths.from_env(),
            get_settings().admin_token,
            viewer_token=get_settings().viewer_token,
            outcomes_token=get_settings().outcomes_token,
            load_first=get_settings().serve_load_first,
        )


@dataclass(frozen=True)
class Part:
    """The records of one request that one variant answered, with their scores."""

    variant: str
    model: LoadedModel
    index: list[int]
    scores: Any


class ServiceState:
    """The parts one app shares between its routes and its background tasks."""

    def __init__(self, settings: ServeSettings) -> None:
        """Build the parts; start nothing (the lifespan starts them)."""
        p = settings.params
        self.settings = settings
        self.schema: RequestSchema = build_schema(p)
        self.metrics = ServiceMetrics(drift_source=lambda: latest_worst_drift(settings.paths))
        self.models = ModelCache()  # both holders' loaded versions: swaps back need no load
        self.holder = ModelHolder(p, settings.paths, settings.alias, self.models)
        self.holder.on_swap = self._swapped
        self.challenger = ModelHolder(p, settings.paths, p.serving.challenger_alias, self.models)
        self.signal = signal_file(settings.paths, p.mlflow.model_name)
        self.signal_seen = stamp(self.signal)  # before the first load: no later move is missed
        self.canary = Canary(p.serving)
        self.metrics.canary_share.set(self.canary.share)
        self.live_calls = 0  # champion or canary model calls running (the shadow waits for 0)
        self.batcher = MicroBatcher(p.serving.batch_max_rows, p.serving.batch_wait_ms / 1000)
        self.log = PredictionLog(
            predictions_dir(settings.paths), p.serving.log_flush_seconds,
            p.serving.log_buffer_rows, self.metrics.idle,
        )  # fmt: skip
        self.threshold = p.serving.threshold or p.train.threshold
        self.mask = masker(p, settings.paths.root)  # ids logged as pseudonyms (no key: fails here)
        flag = p.serving.out_of_contract == "flag"
        self.contract = column_rules(p.data, p.validation) if flag else None
        labels = [x for x in p.validation.target_labels if str(x) != str(p.data.positive_label)]
        self.positive, self.negative = p.data.positive_label, labels[0]
        self.shadow = ShadowScorer(
            p.serving, self.log, self.labels, lambda: self.challenger.current,
            self._busy, self.metrics, self.metrics.idle,
        )  # fmt: skip
        self.shadow_lines = ShadowedLines(predictions_dir(settings.paths))  # for GET /shadow
        self.outcomes = OutcomeStore(settings.paths)
        self.lifespans = 0
        self.started = datetime.now(UTC)
        self.period_start = self.started
        self.period_predictions = 0
        self.period_cpu = cpu_seconds()
        # use cases served beside this one (serve.use_cases adds them): this state's meter
        # writes their serving rows too, the period's uptime and CPU split by predictions
        self.side: dict[str, ServiceState] = {}

    def start_parts(self) -> None:
        """Start the log writer, the shadow's thread and the micro-batcher (on the running loop)."""
        self.log.start()
        self.shadow.start()
        self.batcher.start()

    async def stop_parts(self) -> None:
        """Finish queued batches, end the shadow (what waits is logged unscored), flush the log."""
        await self.batcher.stop()
        await asyncio.to_thread(self.shadow.stop)
        self.log.close()

    def share_traffic(self, main: ServiceState) -> None:
        """A use case served beside `main`: its shadow waits while any request of the process
        is answered (the app's middleware counts them all in `main`'s metrics)."""
        self.shadow.busy = lambda: main._busy() or self._busy()
        self.shadow.idle = main.metrics.idle

    def _busy(self) -> bool:
        """The shadow waits while any request is being answered or any model call runs."""
        return self.live_calls > 0 or self.metrics.in_flight > 0

    def _swapped(self, old: LoadedModel | None, new: LoadedModel) -> None:
        """Metrics follow the swap."""
        self.metrics.reloads.labels("loaded").inc()
        self.metrics.set_model(new.name, new.version, new.alias)

    def not_ready(self) -> str:
        """Why no model answers yet."""
        return f"no model loaded yet: {self.holder.last_error or 'loading'}"

    def labels(self, scores: list[float]) -> list[Any]:
        """The predicted labels at the threshold, in the target's own labels."""
        return [self.positive if s >= self.threshold else self.negative for s in scores]

    @property
    def wants_challenger(self) -> bool:
        """Whether the challenger must be loaded (shadow on or a canary share above 0)."""
        return self.settings.params.serving.shadow or self.canary.share > 0

    async def score(self, champion: LoadedModel, rows: list[dict[str, Any]]) -> list[Part]:
        """Each variant's records and scores: the canary's customers, the champion the rest."""
        challenger = self.challenger.current if self.canary.share > 0 else None
        if challenger is None:
            return [await self._call(CHAMPION, champion, rows, list(range(len(rows))))]
        mine, theirs = split(rows, self.settings.params.data.id_column, self.canary.share)
        if not theirs:
            return [await self._call(CHAMPION, champion, rows, mine)]
        results = await asyncio.gather(
            self._call(CHAMPION, champion, rows, mine) if mine else _nothing(),
            self._canary(challenger, rows, theirs),
        )
        parts = [p for p in results if p is not None]
        if results[1] is None:  # the canary failed: the champion answers its customers too
            parts.append(await self._call(CHAMPION, champion, rows, theirs))
        return parts

    async def _call(
        self, variant: str, model: LoadedModel, rows: list[dict[str, Any]], index: list[int]
    ) -> Part:
        """One variant's model call on some of the records, timed and counted by variant."""
        subset = rows if len(index) == len(rows) else [rows[i] for i in index]
        self.live_calls += 1
        started = time.perf_counter()
        try:
            scores = await self.batcher.score(model, subset)
        except Exception:
            self.metrics.variant_calls.labels(variant, "error").inc()
            raise
        finally:
            self.live_calls -= 1
            self.metrics.variant_seconds.labels(variant).observe(time.perf_counter() - started)
        self.metrics.variant_calls.labels(variant, "ok").inc()
        return Part(variant, model, index, scores)

    async def _canary(
        self, model: LoadedModel, rows: list[dict[str, Any]], index: list[int]
    ) -> Part | None:
        """The challenger's answer for its customers, or None when it fails (judged either way)."""
        started = time.perf_counter()
        try:
            part = await self._call(CANARY, model, rows, index)
        except Exception as err:  # the customer still gets the champion's answer
            log.warning("canary v%s failed: %s: %s", model.version, type(err).__name__, err)
            self._judge(False, time.perf_counter() - started)
            return None
        self._judge(True, time.perf_counter() - started)
        return part

    def _judge(self, ok: bool, seconds: float) -> None:
        """Feed the step-back rule one canary call; count and show a step-back."""
        if self.canary.record(ok, seconds) is not None:
            self.metrics.canary_step_backs.inc()
        self.metrics.canary_share.set(self.canary.share)

    async def answer(
        self,
        request_id: str,
        correlation_id: str | None,
        rows: list[dict[str, Any]],
        parts: list[Part],
    ) -> Response:
        """Label, log (before answering) and count each variant's scores; the JSON response."""
        import numpy as np

        now = datetime.now(UTC)
        whole = len(parts) == 1
        predictions: list[Any] = [] if whole else [None] * len(rows)
        flags = self._flags(rows)
        logged = self.mask(rows)  # what the log and the shadow keep: personal ids pseudonymized
        durable: list[Entry] = []
        for part in parts:
            values: list[float] = part.scores.tolist()
            labels = self.labels(values)
            v, n = part.model.version, len(values)
            entry = Entry(
                request_id, now, v, logged if whole else [logged[i] for i in part.index],
                values, labels, "api", None if whole else part.index, part.variant,
                correlation_id=correlation_id,
                flags=None if flags is None else [flags[i] for i in part.index],
            )  # fmt: skip
            if part.variant == CHAMPION and self.settings.params.serving.shadow:
                self.shadow.submit(entry)
            else:
                durable.append(entry)
            self.metrics.predictions.labels(v).inc(n)
            self.metrics.variant_predictions.labels(part.variant).inc(n)
            self.metrics.scores.observe_many(np.asarray(part.scores, dtype=np.float64))
            answers = [
                {"record": i, "score": s, "label": lab, "model_version": v,
                 "variant": part.variant}
                for i, s, lab in zip(part.index, values, labels, strict=True)
            ]  # fmt: skip
            if whole:  # one part answers every record, already in order
                predictions = answers
            else:
                for i, one in zip(part.index, answers, strict=True):
                    predictions[i] = one
        if durable:  # on disk before the answer leaves; a big request writes off the loop
            if len(rows) <= INLINE_LOG_ROWS:
                self.log.write_now(durable)
            else:
                await asyncio.to_thread(self.log.write_now, durable)
        self.period_predictions += len(rows)
        versions = {p.model.version for p in parts}
        champions = [p.model.version for p in parts if p.variant == CHAMPION]
        top = versions.pop() if len(versions) == 1 else champions[0]
        body: dict[str, Any] = {
            "request_id": request_id, "model_version": top, "predictions": predictions
        }  # fmt: skip
        headers = {"X-Request-ID": request_id, "X-Model-Version": top}
        if correlation_id is not None:
            body["correlation_id"] = headers["X-Correlation-ID"] = correlation_id
        return Response(orjson.dumps(body), media_type="application/json", headers=headers)

    def _flags(self, rows: list[dict[str, Any]]) -> list[str | None] | None:
        """Per record, the contract rules it breaks (flag mode only; None in reject mode)."""
        if self.contract is None:
            return None
        found = [violations(r, self.contract) for r in rows]
        return ["; ".join(f) if f else None for f in found]

    async def follow(self) -> None:
        """Load the first model, then re-resolve the alias every poll interval."""
        poll = self.settings.params.serving.poll_seconds
        frozen = None
        while True:
            try:
                await asyncio.to_thread(self.holder.refresh)
            except Exception as err:  # a registry or load failure keeps the old model serving
                self.holder.last_error = f"{type(err).__name__}: {err}"
                self.metrics.reloads.labels("failed").inc()
                log.warning("model refresh failed: %s", self.holder.last_error)
            if self.holder.current is not None and self.holder.current is not frozen:
                frozen = self.holder.current
                freeze_heap()
            if self.wants_challenger:
                await self.refresh_challenger()
            if poll <= 0 and self.holder.current is not None:
                return
            await asyncio.sleep(poll if poll > 0 else 1.0)

    async def refresh_challenger(self) -> LoadedModel | None:
        """Follow the challenger alias (a failure keeps the old one and is logged)."""
        try:
            return await asyncio.to_thread(self.challenger.refresh)
        except Exception as err:
            self.challenger.last_error = f"{type(err).__name__}: {err}"
            log.warning("challenger refresh failed: %s", self.challenger.last_error)
            return self.challenger.current

    def challenger_info(self) -> dict[str, Any]:
        """Which challenger is loaded, under which alias, or why none is."""
        model = self.challenger.current
        return {
            "alias": self.challenger.alias,
            "version": model.version if model else None,
            "error": None if model else self.challenger.last_error,
        }

    async def load_first(self) -> None:
        """Until the first model is loaded (the lifespan waits here: no traffic before it)."""
        while self.holder.current is None:
            try:
                await asyncio.to_thread(self.holder.refresh)
            except Exception as err:  # retried: the registry may come up after the service
                self.holder.last_error = f"{type(err).__name__}: {err}"
                log.warning("first model load failed: %s", self.holder.last_error)
            if self.holder.current is None:
                await asyncio.sleep(1.0)

    async def watch_aliases(self) -> None:
        """Follow the alias-moved signal at once (`lifecycle.alias_signal`); polling stays.

        The use cases served beside this one (`side`) are watched by the same loop.
        """
        every = self.settings.params.serving.alias_watch_seconds
        while True:
            await asyncio.sleep(every)
            for state in (self, *list(self.side.values())):
                now = stamp(state.signal)
                if now != state.signal_seen:
                    state.signal_seen = now
                    await state.follow_move(last_move(state.signal) or {})

    async def follow_move(self, move: dict[str, str | None]) -> None:
        """Re-resolve the aliases this worker serves; pre-load a version given another alias.

        The signal keeps only the last move, and two moves can land within one watch tick (a
        promotion, then the next challenger at once): whatever the last move names, the served
        alias is resolved again (one registry read), so an overwritten promotion is not missed.
        """
        alias, version = move.get("alias"), move.get("version")
        p, paths = self.settings.params, self.settings.paths
        try:
            await asyncio.to_thread(self.holder.refresh)
            followed = alias == self.holder.alias
            if self.wants_challenger:
                await self.refresh_challenger()
                followed = followed or alias == self.challenger.alias
            if version and alias and not followed:  # e.g. a new challenger: promoted instantly
                await asyncio.to_thread(self.models.preload, p, paths, version, alias)
        except Exception as err:  # the old model keeps serving; the poll retries
            self.metrics.reloads.labels("failed").inc()
            log.warning("following the alias move %s failed: %s: %s", move, type(err).__name__,
                        err)  # fmt: skip

    async def meter(self) -> None:
        """Open the serving period's ledger row now, update it every minute, close each period."""
        s = self.settings.params.serving
        await asyncio.to_thread(self.record_period, False)
        while True:
            await asyncio.sleep(s.ledger_update_seconds)
            age = (datetime.now(UTC) - self.period_start).total_seconds()
            await asyncio.to_thread(self.record_period, age >= s.ledger_period_seconds)

    def record_period(self, close: bool = True) -> None:
        """The serving period so far into the ledger (lifecycle.serve.periods)."""
        record_periods(self, close)


async def _nothing() -> None:
    """No part (gathered in place of a variant that has no records)."""
    return None


def freeze_heap() -> None:
    """Move what start-up and the model load allocated out of the collector's sight.

    The imports (MLflow, pandas, scikit-learn) leave millions of long-lived objects; a full
    collection that walks them stalls the event loop for tens to hundreds of milliseconds,
    which is most of the service's p99. Frozen objects are still freed by reference counting.
    """
    gc.collect()
    gc.freeze()
