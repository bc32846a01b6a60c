"""What a flow asks of its Prefect run: the params and paths it works with, its id, its tags."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect.client.orchestration import get_client
from prefect.runtime import flow_run

from lifecycle.config import Params, load_params
from lifecycle.env import apply_offline_defaults
from lifecycle.paths import Paths


def setup(params_file: str | None) -> tuple[Params, Paths]:
    """The params and paths `dvc repro` uses (the one default params path: see settings)."""
    apply_offline_defaults()
    paths = Paths.from_env()
    return load_params(params_file), paths


def run_id() -> str:
    """The current flow run's id."""
    return str(flow_run.get_id())


def is_subflow() -> bool:
    """Whether the current flow run was started by another flow run."""
    return flow_run.get_parent_flow_run_id() is not None


def tag_run(*tags: str) -> None:
    """Add tags to the current flow run (stage, trigger, model version), keeping its others."""
    with get_client(sync_client=True) as client:
        current = client.read_flow_run(flow_run.get_id())  # type: ignore[arg-type]
        merged = list(dict.fromkeys([*current.tags, *tags]))
        client.update_flow_run(current.id, tags=merged)


BLAS_THREADS = 1


@contextmanager
def pinned_threads() -> Iterator[None]:
    """One BLAS thread for the block: the same sums in the same order on any machine and load.

    A multi-threaded BLAS splits a dot product by its thread count, so a fit or a score can
    differ in the last bits between a 2-core CI runner and a laptop; where a promotion is close,
    that is enough to flip it. The fits of this project are small (one thread costs little);
    OpenMP (HistGradientBoosting) keeps its threads: its histograms are summed per feature.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=BLAS_THREADS, user_api="blas"):
        yield
