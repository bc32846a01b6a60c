"""How a candidate's fits use the cores: CV folds in parallel, one BLAS/OpenMP thread per fit.

`lifecycle.train` fits each candidate's folds on threads of its own process (so the ledger and
the convergence watch see them) and gives a forest's final fit the cores its folds had.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from lifecycle.config import Candidate
from lifecycle.system import available_cores

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline


def fold_jobs(candidate: Candidate, folds: int, cores: int | None = None) -> int:
    """How many CV folds fit at once: one per core, unless the candidate chose its `n_jobs`."""
    if candidate.params.get("n_jobs") not in (None, 1):
        return 1
    return max(1, min(folds, available_cores() if cores is None else cores))


@contextmanager
def one_thread_per_fit(jobs: int) -> Iterator[None]:
    """Each fit on one BLAS and one OpenMP thread; the CV folds on `jobs` threads of this process.

    Threads, not processes: the ledger and the convergence budget read this process's CPU,
    and a fold's ConvergenceWarning reaches `convergence.watch`. One thread per fit because
    HistGradientBoosting's OpenMP threads wait for each other at every boosting step: with a
    core taken by another process, its two threads took 10.7 s where one took 6.0 s (100x,
    50,000 rows), and two folds of two threads each on two cores ran slower still. The scores
    do not depend on it: HistGradientBoosting sums its histograms per feature (one and two
    threads agree to the last bit, tests/unit/test_train.py), each fold is fitted as if alone
    and its predictions go back in fold order. An estimator's own `n_jobs` is left as given.
    """
    import sklearn  # noqa: F401  (loads its BLAS and OpenMP: a limit reaches loaded libraries only)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        if jobs <= 1:
            yield
            return
        from joblib import parallel_config

        with parallel_config(backend="threading"):
            yield


# families whose trees are fitted on joblib threads, the same trees whatever their number
THREADED_TREES = frozenset({"random_forest"})


@contextmanager
def final_fit_threads(pipe: Pipeline, candidate: Candidate, jobs: int) -> Iterator[None]:
    """The final fit alone on the cores a forest's folds had: its `n_jobs` for this fit only.

    A forest draws every tree's seed before fitting, so its trees do not depend on `n_jobs`;
    the logged model keeps the `n_jobs` the params gave (1: one thread where it serves).
    """
    model = pipe.steps[-1][1]
    if jobs <= 1 or candidate.family not in THREADED_TREES or fold_jobs(candidate, jobs) <= 1:
        yield
        return
    given = model.get_params()["n_jobs"]
    model.set_params(n_jobs=jobs)
    try:
        yield
    finally:
        model.set_params(n_jobs=given)
