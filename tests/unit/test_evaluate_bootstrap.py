"""The vectorized bootstrap draws the same resamples as the one-by-one loop and agrees with it."""

from __future__ import annotations

import numpy as np
import pytest

from lifecycle import evaluate
from lifecycle.config import Params, parse_params
from lifecycle.evaluate import _loop_gains, _vector_gains, paired_bootstrap


def _params(raw: dict[str, object], metric: str, samples: int = 200) -> Params:
    p = parse_params(raw)
    spec = p.promotion.model_copy(update={"metric": metric, "bootstrap_samples": samples})
    return p.model_copy(update={"promotion": spec})


@pytest.mark.parametrize("metric", ["profit", "roc_auc"])
def test_vector_and_loop_gains_agree(
    repo_params_mapping: dict[str, object], metric: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(5)
    y = (rng.random(400) < 0.1).astype(int)  # rare positives: some resamples hold few
    old = np.round(np.clip(0.2 * y + rng.random(400), 0, 1), 2)  # rounded: many ties
    new = np.round(np.clip(0.4 * y + rng.random(400), 0, 1), 2)
    params = _params(repo_params_mapping, metric)
    monkeypatch.setattr(evaluate, "CHUNK_CELLS", 400 * 7)  # several chunks, as at scale
    loop = _loop_gains(y, old, new, params, np.random.default_rng(9))
    vector = _vector_gains(y, old, new, params, np.random.default_rng(9))
    if metric == "profit":
        assert np.array_equal(loop, vector)
    else:
        assert np.allclose(loop, vector, rtol=0, atol=1e-12)
    tiny = (rng.random(12) < 0.15).astype(int)  # resamples with one class count as no gain
    a, b = rng.random(12), rng.random(12)
    both = [f(tiny, a, b, params, np.random.default_rng(1)) for f in (_loop_gains, _vector_gains)]
    assert np.allclose(both[0], both[1], atol=1e-12)


def test_a_large_holdout_bootstraps_in_one_go(repo_params_mapping: dict[str, object]) -> None:
    rng = np.random.default_rng(3)
    y = (rng.random(20_000) < 0.26).astype(int)
    old, new = rng.random(20_000), np.clip(0.3 * y + rng.random(20_000), 0, 1)
    boot = paired_bootstrap(y, old, new, _params(repo_params_mapping, "profit", 300))
    assert boot.samples == 300 and 0 < boot.lower < boot.mean_gain < boot.upper
