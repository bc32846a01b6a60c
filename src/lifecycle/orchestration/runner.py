"""Which Dask cluster the candidate fits run on: an existing scheduler, or a local one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lifecycle.config import OrchestrationParams
from lifecycle.settings import get_settings

if TYPE_CHECKING:
    from prefect_dask.task_runners import DaskTaskRunner

ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"


@dataclass(frozen=True)
class DaskChoice:
    """An existing scheduler's address, or the size of the local cluster to start."""

    address: str | None
    local_workers: int

    def describe(self) -> str:
        """One line for logs and artifacts."""
        if self.address:
            return f"Dask cluster at {self.address}"
        return f"local Dask cluster, {self.local_workers} worker process(es)"


def choose(spec: OrchestrationParams) -> DaskChoice:
    """DASK_SCHEDULER_ADDRESS wins, then orchestration.dask_address, else a local cluster."""
    address = get_settings().dask_scheduler_address or spec.dask_address
    return DaskChoice(address or None, spec.dask_workers)


def task_runner(choice: DaskChoice) -> DaskTaskRunner:
    """A DaskTaskRunner for the choice; one thread per worker, since each fit is CPU-bound.

    A local cluster binds loopback on free ports (its HTTP endpoint would take the fixed 8787
    even with the dashboard off) and lets its workers exit before closing (see cluster.py).
    """
    from prefect_dask.task_runners import DaskTaskRunner

    from lifecycle.orchestration.cluster import LoopbackCluster  # imports distributed

    if choice.address:
        return DaskTaskRunner(address=choice.address)
    return DaskTaskRunner(
        cluster_class=LoopbackCluster,
        cluster_kwargs={
            "n_workers": choice.local_workers,
            "threads_per_worker": 1,
            "processes": True,
        },
    )


def fit_runner(spec: OrchestrationParams, candidates: int) -> Any:
    """Dask for a cluster or several candidates; one fit, or one local worker, runs in-process."""
    choice = choose(spec)
    if choice.address or (candidates > 1 and choice.local_workers > 1):
        return task_runner(choice)
    from prefect.task_runners import ThreadPoolTaskRunner

    return ThreadPoolTaskRunner(max_workers=1)
