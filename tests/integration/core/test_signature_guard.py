"""The registry refuses a model whose inputs differ from the champion's (real MLflow store)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lifecycle.paths import Paths
from lifecycle.registry import (
    CHAMPION,
    RegistryError,
    client,
    ensure_experiment,
    ensure_same_inputs,
    input_columns,
)


def _logged(columns: dict[str, np.ndarray], y: np.ndarray) -> str:
    """A small sklearn model logged with its inferred signature; its model URI."""
    import mlflow
    from mlflow.models import infer_signature
    from sklearn.linear_model import LogisticRegression

    x = pd.DataFrame(columns)
    model = LogisticRegression().fit(x, y)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model, name="model", signature=infer_signature(x, model.predict_proba(x)[:, 1])
        )
    return str(info.model_uri)


def test_another_tables_model_is_refused_under_the_champions_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    paths = Paths(tmp_path)
    ensure_experiment(paths, "guard")
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 60)
    first = _logged({"tenure": rng.normal(size=60), "charges": rng.normal(size=60)}, y)
    ensure_same_inputs("guard", first)  # no champion yet: allowed
    mv = mlflow.register_model(first, "guard")
    client(paths).set_registered_model_alias("guard", CHAMPION, str(mv.version))
    assert input_columns(f"models:/guard/{mv.version}") == [
        ("tenure", "double"), ("charges", "double")
    ]  # fmt: skip
    same = _logged({"tenure": rng.normal(size=60), "charges": rng.normal(size=60)}, y)
    ensure_same_inputs("guard", same)
    other = _logged({"glu": rng.normal(size=60), "charges": rng.integers(0, 9, 60)}, y)
    with pytest.raises(RegistryError) as err:
        ensure_same_inputs("guard", other)
    text = str(err.value)
    assert "missing ['tenure'], new ['glu'], type changed ['charges']" in text
    assert "its own mlflow.model_name" in text
