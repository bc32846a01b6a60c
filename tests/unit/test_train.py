"""Cross-validation folds: groups stay in one fold; folds in parallel give the same scores."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from lifecycle.config import Candidate, Params
from lifecycle.convergence import NOT_CONVERGED, watch, with_early_stopping
from lifecycle.features import binary_target, model_inputs
from lifecycle.fit_threads import fold_jobs, one_thread_per_fit
from lifecycle.train import build_pipeline, cv_folds


def test_unique_ids_keep_the_plain_stratified_folds(params: Params, table: pd.DataFrame) -> None:
    folds, groups = cv_folds(table, params)
    assert type(folds).__name__ == "StratifiedKFold"
    assert groups is None
    assert folds.n_splits == params.train.cv_folds


def test_copies_of_a_group_stay_in_one_fold(
    make_params: Callable[..., Params], table: pd.DataFrame
) -> None:
    params = make_params(data={"group_column": "origin"})
    base = table.head(600)
    twice = pd.concat([base.assign(origin=base.index), base.assign(origin=base.index)])
    folds, groups = cv_folds(twice, params)
    assert type(folds).__name__ == "StratifiedGroupKFold"
    x, y = model_inputs(twice, params.data), binary_target(twice, params.data)
    seen: dict[int, int] = {}
    for k, (_, scored) in enumerate(folds.split(x, y, groups=groups)):
        for origin in set(groups.iloc[scored]):
            assert seen.setdefault(origin, k) == k  # scored in one fold only, never fitted on it
    assert len(seen) == len(base)


def test_fold_jobs_one_per_core_unless_the_candidate_chose_its_threads() -> None:
    lr = Candidate(name="l", family="logistic_regression", params={})
    assert fold_jobs(lr, folds=3, cores=2) == 2
    assert fold_jobs(lr, folds=3, cores=8) == 3  # never more threads than folds
    assert fold_jobs(lr, folds=3, cores=1) == 1
    forest = Candidate(name="f", family="random_forest", params={"n_jobs": 1})
    assert fold_jobs(forest, folds=3, cores=2) == 2
    assert fold_jobs(forest.model_copy(update={"params": {"n_jobs": -1}}), 3, cores=2) == 1
    assert fold_jobs(lr, folds=3) >= 1  # this machine's cores


@pytest.mark.parametrize("name", ["logreg", "hist_gb", "forest"])
def test_parallel_folds_give_the_scores_of_folds_one_by_one(
    name: str, params: Params, table: pd.DataFrame
) -> None:
    """Same out-of-fold scores to the last bit: threads and one OpenMP thread change no sum."""
    from sklearn.model_selection import cross_val_predict
    from threadpoolctl import threadpool_limits

    candidate = next(c for c in params.train.candidates if c.name == name)
    candidate = with_early_stopping(candidate, params.convergence)
    if name == "forest":
        candidate = candidate.model_copy(
            update={"params": {**candidate.params, "n_estimators": 20}}
        )
    data = table.head(1500)
    x, y = model_inputs(data, params.data), binary_target(data, params.data)
    folds, groups = cv_folds(data, params)
    pipe = build_pipeline(candidate, params)
    with threadpool_limits(limits=2):  # as before: one fold at a time, the library's threads
        alone = cross_val_predict(pipe, x, y, groups=groups, cv=folds, method="predict_proba")
    with one_thread_per_fit(2):
        both = cross_val_predict(
            pipe, x, y, groups=groups, cv=folds, method="predict_proba", n_jobs=2
        )
    assert np.array_equal(alone, both)


def test_a_fold_s_convergence_warning_reaches_the_watch_from_a_thread(params: Params) -> None:
    """A fold fitted on a worker thread still marks the candidate not converged."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    rng = np.random.default_rng(7)
    x = rng.normal(size=(600, 6)) * [1, 10, 100, 1, 5, 50]
    y = (x[:, 0] + x[:, 1] / 10 + rng.normal(size=600) > 0).astype(int)
    with watch(params.convergence) as seen, one_thread_per_fit(2):
        cross_val_predict(LogisticRegression(max_iter=1), x, y, cv=3, n_jobs=2)
    assert seen.status == NOT_CONVERGED


def test_a_forest_s_final_fit_uses_the_cores_and_keeps_its_trees_and_n_jobs(
    params: Params, table: pd.DataFrame
) -> None:
    from lifecycle.fit_threads import final_fit_threads

    forest = next(c for c in params.train.candidates if c.family == "random_forest")
    forest = forest.model_copy(update={"params": {**forest.params, "n_estimators": 20}})
    data = table.head(1500)
    x, y = model_inputs(data, params.data), binary_target(data, params.data)
    alone, threaded = build_pipeline(forest, params), build_pipeline(forest, params)
    alone.fit(x, y)
    seen: list[int] = []
    with final_fit_threads(threaded, forest, jobs=2):
        seen.append(threaded.steps[-1][1].n_jobs)
        threaded.fit(x, y)
    assert seen == [2]
    assert threaded.steps[-1][1].n_jobs == forest.params["n_jobs"] == 1  # as the params gave
    assert np.array_equal(alone.predict_proba(x), threaded.predict_proba(x))
    logreg = next(c for c in params.train.candidates if c.family == "logistic_regression")
    other = build_pipeline(logreg, params)
    with final_fit_threads(other, logreg, jobs=2):
        assert other.steps[-1][1].get_params() == build_pipeline(logreg, params)[-1].get_params()


def test_one_thread_per_fit_reaches_openmp_and_blas_in_a_fresh_process() -> None:
    """A limit reaches loaded libraries only: the context loads scikit-learn's before limiting."""
    import json
    import subprocess
    import sys

    code = (
        "import json, threadpoolctl\n"
        "from lifecycle.fit_threads import one_thread_per_fit\n"
        "with one_thread_per_fit(2):\n"
        "    info = threadpoolctl.threadpool_info()\n"
        "print(json.dumps(sorted({(i['user_api'], i['num_threads']) for i in info})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seen = {tuple(pair) for pair in json.loads(out.stdout.strip().splitlines()[-1])}
    assert {api for api, _ in seen} >= {"openmp", "blas"}
    assert {threads for _, threads in seen} == {1}
