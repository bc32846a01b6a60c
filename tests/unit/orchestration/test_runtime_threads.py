"""A flow's BLAS runs on one thread, so sums come out the same on any machine and load."""

from __future__ import annotations

from lifecycle.orchestration.runtime import BLAS_THREADS, pinned_threads


def test_blas_is_pinned_inside_and_restored_after() -> None:
    import numpy as np  # loads the BLAS threadpoolctl reports on
    from threadpoolctl import threadpool_info

    def blas() -> set[int]:
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    assert np.ones(3) @ np.ones(3) == 3.0
    before = blas()
    assert before, "numpy's BLAS is visible to threadpoolctl"
    with pinned_threads():
        assert blas() == {BLAS_THREADS}
    assert blas() == before
