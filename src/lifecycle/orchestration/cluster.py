"""The local Dask cluster the candidate fits run on: loopback, no fixed port, a clean shutdown."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from distributed import LocalCluster

HOST = "127.0.0.1"
# a worker that imported MLflow and Prefect needs more than the nanny's default 4 s to exit
# (Prefect drains its log and event queues at exit); killed earlier, it logs a warning
WORKER_CLOSE_SECONDS = 30.0


class LoopbackCluster(LocalCluster):  # type: ignore[misc]
    """A LocalCluster on loopback whose HTTP endpoint takes a free port, not the fixed 8787."""

    def __init__(self, **kwargs: Any) -> None:
        """The caller's sizes; host and dashboard address are always loopback, any port."""
        kwargs.setdefault("host", HOST)
        kwargs.setdefault("dashboard_address", f"{HOST}:0")
        # at shutdown the scheduler's send to a worker that already left logs "Batched Comm
        # Closed" with a full CommClosedError traceback, at INFO: expected, so not in our log
        logging.getLogger("distributed.batched").setLevel(logging.WARNING)
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]

    async def _close(self) -> None:
        """Let each worker process exit on its own before the cluster closes (no kill)."""
        nannies = list(getattr(self, "workers", {}).values())
        await asyncio.gather(*(w.close(timeout=WORKER_CLOSE_SECONDS) for w in nannies))
        await super()._close()  # type: ignore[no-untyped-call]
