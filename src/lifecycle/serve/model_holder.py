"""The model the service answers with: loaded beside the old one, swapped in one step.

`ModelHolder.current` is one attribute holding an immutable `LoadedModel`; a request reads it
once and keeps that object to the end, so a swap never changes the model under a request in
flight, and every response names the version that answered. `refresh` resolves the alias to
a version number, and only when it changed loads that exact version (by number, so an alias
moving again mid-load cannot mix two versions), builds and verifies its fast path, then
assigns `current`. One load at a time (a lock); a failed load keeps the old model serving.
Each uvicorn worker holds its own holder; it follows an alias-moved signal at once
(`lifecycle.alias_signal`) and polls the alias as the fallback. Holders of one worker share a
small cache of loaded versions (`ModelCache`), so a rollback to a version served before, or
the promotion of a challenger the worker already loaded, swaps without loading anything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from lifecycle.config import Params
from lifecycle.paths import Paths
from lifecycle.portable import STATUS_TAG, load_onnx, to_onnx
from lifecycle.registry import RegistryError
from lifecycle.serve.fastpath import (
    FastScorer,
    UnsupportedPipelineError,
    batch_invariant,
    build_fast,
    pipeline_scorer,
    probe_rows,
    verify,
)
from lifecycle.serve.onnx_scorer import OnnxScorer, build_onnx, is_forest, verify_onnx
from lifecycle.settings import get_settings

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

log = logging.getLogger(__name__)

Scorer = Callable[[Sequence[dict[str, Any]]], "npt.NDArray[np.float64]"]


@dataclass(frozen=True)
class LoadedModel:
    """One registered version, ready to score: the pipeline, its scorer and its card."""

    name: str
    version: str
    alias: str
    pipeline: Any
    score: Scorer
    fast_path: bool
    fast_path_note: str
    batchable: bool
    card: dict[str, Any] = field(default_factory=dict)
    loaded_at: str = ""
    inline_rows: int = 0  # batches up to this size are cheaper on the event loop than a thread
    engine: str = ""  # what scores: "onnx", "fast" (lean transform) or "pipeline"


class ModelCache:
    """The last few versions one worker loaded, by version number (thread-safe)."""

    def __init__(self, keep: int = 4) -> None:
        """Keep at most `keep` versions (the oldest loaded is dropped first)."""
        self.keep = keep
        self._models: dict[str, LoadedModel] = {}
        self._lock = threading.Lock()

    def get(self, version: str) -> LoadedModel | None:
        """The loaded version, or None."""
        with self._lock:
            return self._models.get(version)

    def put(self, model: LoadedModel) -> None:
        """Remember a loaded version (dropping the oldest beyond `keep`)."""
        with self._lock:
            self._models.pop(model.version, None)
            self._models[model.version] = model
            while len(self._models) > self.keep:
                self._models.pop(next(iter(self._models)))

    def preload(self, params: Params, paths: Paths, version: str, alias: str) -> LoadedModel:
        """Load a version into the cache without serving it (a no-op when it is there)."""
        found = self.get(version)
        if found is None:
            found = load_version(params, paths, version, alias)
            self.put(found)
        return found


class ModelHolder:
    """Holds the serving model and swaps it atomically when the alias moves."""

    def __init__(
        self, params: Params, paths: Paths, alias: str = "champion", cache: ModelCache | None = None
    ) -> None:
        """Nothing loads here: the app loads in the background so /health answers at once."""
        self.params = params
        self.paths = paths
        self.alias = alias
        self.cache = cache if cache is not None else ModelCache()
        self.current: LoadedModel | None = None
        self.last_error: str | None = "not loaded yet"
        self._lock = threading.Lock()
        self.on_swap: Callable[[LoadedModel | None, LoadedModel], None] | None = None

    def resolve(self) -> str | None:
        """The version number the alias points at now (None when it points nowhere)."""
        from lifecycle.registry import version_by_alias

        found = version_by_alias(self.paths, self.params.mlflow.model_name, self.alias)
        return str(found.version) if found is not None else None

    def refresh(self, force: bool = False) -> LoadedModel | None:
        """Follow the alias: load the version it names beside the old one, then swap."""
        with self._lock:
            version = self.resolve()
            if version is None:
                self.last_error = (
                    f"model {self.params.mlflow.model_name!r} has no version with alias "
                    f"{self.alias!r} yet (train and promote one first)"
                )
                return self.current
            old = self.current
            if old is not None and old.version == version and not force:
                return old
            kept = None if force else self.cache.get(version)
            if kept is not None:  # served or pre-loaded before: swap without loading
                fresh = replace(kept, alias=self.alias, card={**kept.card, "alias": self.alias})
            else:
                fresh = load_version(self.params, self.paths, version, self.alias)
                self.cache.put(fresh)
            self.current = fresh  # the swap: one reference assignment
            self.last_error = None
        if self.on_swap is not None:
            self.on_swap(old, fresh)
        log.info("serving %s v%s (fast path: %s)", fresh.name, fresh.version, fresh.fast_path)
        return fresh


def load_version(params: Params, paths: Paths, version: str, alias: str) -> LoadedModel:
    """Load one version by number, build its scorer and its card (what /model shows)."""
    import tempfile

    import mlflow.sklearn

    from lifecycle.registry import client

    started = time.perf_counter()
    name = params.mlflow.model_name
    c = client(paths)
    mv = c.get_model_version(name, version)
    # a throw-away download folder: mlflow otherwise leaves a copy in /tmp per load
    with tempfile.TemporaryDirectory(prefix="lifecycle-model-") as tmp:
        pipeline = mlflow.sklearn.load_model(f"models:/{name}/{version}", dst_path=tmp)
    blob = logged_onnx(params, paths, mv) if is_forest(pipeline) else None
    score, fast, note = make_scorer(pipeline, params, blob)
    batchable = scorer_is_batch_invariant(score, pipeline, params)
    card = model_card(c, mv, alias, paths)
    card["fast_path"] = {"used": fast, "note": note}
    engine = scorer_engine(score)
    card["scorer"] = engine
    card["micro_batching"] = batchable
    inline = small_batch_rows(score)
    card["inline_rows"] = inline
    card["load_seconds"] = round(time.perf_counter() - started, 3)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return LoadedModel(
        name, str(version), alias, pipeline, score, fast, note, batchable, card, now, inline, engine
    )


def logged_onnx(params: Params, paths: Paths, mv: Any) -> bytes | None:
    """The version's exported ONNX graph (`lifecycle export-onnx`), or None: convert at load."""
    if not str((mv.tags or {}).get(STATUS_TAG, "")).startswith("ok"):
        return None
    try:
        return load_onnx(params, paths, str(mv.version))
    except RegistryError as err:
        log.warning("version %s: logged ONNX graph unreadable, converting: %s", mv.version, err)
        return None


def scorer_engine(score: Scorer) -> str:
    """What answers /predict: the ONNX graph, the lean transform, or the pipeline."""
    if isinstance(score, OnnxScorer):
        return "onnx"
    return "fast" if isinstance(score, FastScorer) else "pipeline"


def small_batch_rows(score: Scorer) -> int:
    """How many rows the scorer answers in well under a millisecond (0: none, use a thread)."""
    if isinstance(score, OnnxScorer):
        return int(score.inline_rows)
    if isinstance(score, FastScorer) and score.small is not None:
        return int(score.small.inline_rows)
    return 0


def scorer_is_batch_invariant(score: Scorer, pipeline: Any, params: Params) -> bool:
    """Whether requests may share a model call without changing any score."""
    try:  # the lean scorer already built, or one built only for its probe rows
        lean = score if isinstance(score, FastScorer) else build_fast(pipeline)
    except UnsupportedPipelineError:
        return False
    rows = probe_rows(lean, 64, set(params.validation.max_null_fraction), 1)
    return batch_invariant(score, rows)


def make_scorer(
    pipeline: Any, params: Params, onnx: bytes | None = None
) -> tuple[Scorer, bool, str]:
    """A forest's ONNX graph within tolerance, else the lean scorer proven equal, else the
    pipeline itself. `onnx` is the version's logged graph; without one a forest is converted."""
    data = params.data
    slow = pipeline_scorer(pipeline, data.numeric, data.categorical)
    try:
        fast = build_fast(pipeline)
    except UnsupportedPipelineError as err:
        return slow, False, f"pipeline used: {err}"
    nullable = set(params.validation.max_null_fraction)
    rows = probe_rows(fast, params.serving.verify_rows, nullable)
    if is_forest(pipeline):
        scorer, said = forest_onnx(pipeline, params, rows, onnx)
        if scorer is not None:
            return scorer, True, f"ONNX Runtime: {said}"
        log.warning("ONNX refused for the forest, serving through the pipeline: %s", said)
        return slow, False, f"pipeline used: {said}"
    why = verify(fast, pipeline, rows, (data.numeric, data.categorical))
    if why is not None:
        log.warning("fast path refused, serving through the pipeline: %s", why)
        return slow, False, f"pipeline used: {why}"
    small = ""
    if fast.small is not None:
        small = f"; batches of up to {fast.small.max_rows} rows walk flat trees"
    return fast, True, f"verified equal to the pipeline on {len(rows)} rows{small}"


def forest_onnx(
    pipeline: Any, params: Params, rows: Sequence[dict[str, Any]], blob: bytes | None
) -> tuple[OnnxScorer | None, str]:
    """The forest's ONNX scorer within `release.onnx_tolerance` of the pipeline, or why not."""
    data = params.data
    started = time.perf_counter()
    source = "logged graph"
    try:
        if blob is None:
            source = "converted at load"
            blob = to_onnx(pipeline, params)
        scorer = build_onnx(blob, data.numeric, data.categorical)
    except Exception as err:  # skl2onnx and onnxruntime raise many types
        text = " ".join(str(err).split())[:200]
        return None, f"ONNX conversion failed: {type(err).__name__}: {text}"
    reference = pipeline_scorer(pipeline, data.numeric, data.categorical)
    checked, why = verify_onnx(scorer, reference, rows, params.release.onnx_tolerance)
    seconds = time.perf_counter() - started
    log.info("forest ONNX graph (%s) ready in %.1f s: %s", source, seconds, why)
    return checked, f"{why} ({source}, {seconds:.1f} s)"


def model_card(c: Any, mv: Any, alias: str, paths: Paths) -> dict[str, Any]:
    """Name, version, alias, training date, holdout metrics, data version, run link."""

    from lifecycle.registry import tracking_uri

    tags = dict(mv.tags or {})
    run = c.get_run(mv.run_id) if mv.run_id else None
    trained = None
    experiment = None
    if run is not None:
        trained = datetime.fromtimestamp(run.info.start_time / 1000, UTC).isoformat()
        experiment = run.info.experiment_id
    metrics: dict[str, float] = {}
    for key, value in tags.items():
        if key.startswith("holdout_"):
            try:
                metrics[key.removeprefix("holdout_")] = float(value)
            except ValueError:
                continue
    if run is not None and not metrics:
        metrics = {
            k.removeprefix("holdout_"): v
            for k, v in run.data.metrics.items()
            if k.startswith("holdout_")
        }
    ui = get_settings().mlflow_ui_url.rstrip("/")
    return {
        "name": mv.name,
        "version": str(mv.version),
        "alias": alias,
        "trained_at": trained,
        "registered_at": datetime.fromtimestamp(mv.creation_timestamp / 1000, UTC).isoformat(),
        "holdout_metrics": metrics,
        "data_version": tags.get("data_version"),
        "candidate": tags.get("candidate"),
        "mlflow_run_id": mv.run_id,
        "mlflow_run_url": f"{ui}/#/experiments/{experiment}/runs/{mv.run_id}" if run else None,
        "tracking_uri": _safe_uri(tracking_uri(paths)),
    }


def _safe_uri(uri: str) -> str:
    """A tracking URI without any password it may carry."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
