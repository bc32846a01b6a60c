"""The local Dask cluster binds loopback on free ports: two trains at once do not collide."""

from __future__ import annotations

from urllib.parse import urlparse

from lifecycle.config import OrchestrationParams
from lifecycle.orchestration.cluster import LoopbackCluster
from lifecycle.orchestration.runner import DaskChoice, fit_runner, task_runner


def test_a_local_runner_uses_the_loopback_cluster() -> None:
    runner = task_runner(DaskChoice(None, 2))
    assert runner.cluster_class is LoopbackCluster
    assert runner.cluster_kwargs["n_workers"] == 2
    assert "dashboard_address" not in runner.cluster_kwargs  # the cluster class decides
    one = fit_runner(OrchestrationParams(dask_workers=1), candidates=3)
    assert type(one).__name__ == "ThreadPoolTaskRunner"


def test_two_local_clusters_at_once_take_different_loopback_ports() -> None:
    with (
        LoopbackCluster(n_workers=0, processes=False, protocol="tcp://") as first,
        LoopbackCluster(n_workers=0, processes=False, protocol="tcp://") as second,
    ):
        links = [urlparse(c.dashboard_link) for c in (first, second)]
        assert [u.hostname for u in links] == ["127.0.0.1", "127.0.0.1"]
        ports = {u.port for u in links}
        assert len(ports) == 2 and 8787 not in ports
        assert first.scheduler_address.startswith("tcp://127.0.0.1:")
