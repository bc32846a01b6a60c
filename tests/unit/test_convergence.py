"""Early stopping switched on, ConvergenceWarnings and budgets caught, no silent selection."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from lifecycle.config import Candidate
from lifecycle.config.convergence import ConvergenceParams
from lifecycle.convergence import (
    CONVERGED,
    NOT_CONVERGED,
    OVER_BUDGET,
    NoConvergedCandidateError,
    ledger_note,
    selectable,
    watch,
    with_early_stopping,
)


def test_early_stopping_is_added_to_boosting_only_and_the_candidate_wins() -> None:
    """hist_gb gets the validation split; its own params stay; logreg is left as it is."""
    spec = ConvergenceParams(validation_fraction=0.2, n_iter_no_change=5)
    hgb = Candidate(name="h", family="hist_gradient_boosting", params={"n_iter_no_change": 3})
    got = with_early_stopping(hgb, spec).params
    assert got == {"early_stopping": True, "validation_fraction": 0.2, "n_iter_no_change": 3}
    lr = Candidate(name="l", family="logistic_regression", params={"max_iter": 5})
    assert with_early_stopping(lr, spec) == lr
    assert with_early_stopping(hgb, ConvergenceParams(early_stopping=False)) == hgb


def _xy() -> tuple[np.ndarray, np.ndarray]:
    """A seeded, separable-ish problem that lbfgs cannot solve in one iteration."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(300, 6)) * [1, 10, 100, 1, 5, 50]
    y = (x[:, 0] + x[:, 1] / 10 + rng.normal(size=300) > 0).astype(int)
    return x, y


def test_a_convergence_warning_is_caught_and_makes_the_candidate_not_converged() -> None:
    """LogisticRegression stopped at max_iter=1 warns: the watch records it."""
    from sklearn.linear_model import LogisticRegression

    x, y = _xy()
    with watch(ConvergenceParams()) as seen:
        LogisticRegression(max_iter=1).fit(x, y)
        assert not seen.over_budget("final fit")
    assert seen.status == NOT_CONVERGED
    assert seen.reason.startswith("ConvergenceWarning: ")
    assert seen.tags()["convergence.status"] == NOT_CONVERGED
    with watch(ConvergenceParams()) as fine:
        LogisticRegression(max_iter=1000).fit(x / x.std(axis=0), y)
    assert fine.status == CONVERGED and fine.reason == ""


def test_a_fit_over_its_cpu_budget_is_stopped_at_the_checkpoint() -> None:
    """A budget far below what the fit uses: over_budget, naming the checkpoint and the rule.

    (Any fit spends more than a microsecond; a logistic regression does so without the
    seconds of OpenMP threads that a boosted fit costs on a busy 2-core machine.)"""
    from sklearn.linear_model import LogisticRegression

    x, y = _xy()
    with watch(ConvergenceParams(max_cpu_seconds=1e-6, max_seconds=None)) as seen:
        LogisticRegression(max_iter=1000).fit(x / x.std(axis=0), y)
        assert seen.over_budget("cross-validation")
    assert seen.status == OVER_BUDGET
    assert "over budget after cross-validation" in seen.reason
    assert "max_cpu_seconds 1e-06" in seen.reason


@dataclass(frozen=True)
class _Fit:
    name: str
    convergence: str
    convergence_reason: str = ""


def test_selection_skips_unconverged_and_fails_naming_each_when_none_is_left() -> None:
    """Only converged candidates are selectable; none: an error with names and reasons."""
    fits = [_Fit("a", CONVERGED), _Fit("b", NOT_CONVERGED, "ConvergenceWarning: lbfgs")]
    assert selectable(fits) == [fits[0]]
    assert ledger_note(fits) == "not selectable: b not_converged"
    assert ledger_note(fits[:1]) == ""
    with pytest.raises(NoConvergedCandidateError, match=r"b: not_converged \(ConvergenceWarning"):
        selectable(fits[1:])
