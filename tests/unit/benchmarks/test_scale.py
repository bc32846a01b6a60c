"""The scale benchmark's table multiplier: fresh ids, seeded jitter in range, the base rate kept."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "scale.py"


@pytest.fixture(scope="module")
def scale() -> ModuleType:
    """benchmarks/scale.py as a module (benchmarks/ is scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("bench_scale", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def _table() -> pd.DataFrame:
    """Ten customers: an int id, a 0/1 flag, an int and a float with a null, text, a label."""
    return pd.DataFrame(
        {
            "rownames": range(1, 11),
            "flag": [0, 1] * 5,
            "tenure": [1, 5, 9, 20, 33, 40, 52, 60, 70, 72],
            "charges": [20.0, 35.5, None, 50.0, 61.2, 70.0, 80.8, 90.0, 99.9, 110.0],
            "plan": list("abcabcabca"),
            "churn": ["Yes", "No", "No", "No", "Yes", "No", "No", "No", "No", "Yes"],
        }
    )


def test_replicated_rows_have_fresh_ids_and_keep_the_base_rate(scale: ModuleType) -> None:
    base = _table()
    big = scale.replicate(base, 3, "rownames", seed=1)
    assert len(big) == 30
    assert big["rownames"].is_unique
    assert big["origin"].tolist() == base["rownames"].tolist() * 3
    assert big.head(10).drop(columns="origin").equals(base)  # copy 0 is the table as it comes
    assert (big["churn"] == "Yes").mean() == (base["churn"] == "Yes").mean()
    assert big["flag"].tolist() == base["flag"].tolist() * 3  # two-valued columns are not moved
    assert big["plan"].tolist() == base["plan"].tolist() * 3
    later = big.drop(columns=["rownames", "origin"]).iloc[10:].reset_index(drop=True)
    repeated = pd.concat([base.drop(columns="rownames")] * 2, ignore_index=True)
    assert later.dtypes.equals(repeated.dtypes)
    assert not later.duplicated().any()  # jittered: no later copy repeats a row exactly
    assert (later["charges"] != repeated["charges"]).sum() >= 15


def test_jitter_is_seeded_small_in_range_and_keeps_dtypes_and_nulls(scale: ModuleType) -> None:
    base = _table()
    big = scale.replicate(base, 4, "rownames", seed=1)
    assert big.equals(scale.replicate(base, 4, "rownames", seed=1))
    assert not big.equals(scale.replicate(base, 4, "rownames", seed=2))
    assert big["tenure"].dtype == base["tenure"].dtype
    for col in ("tenure", "charges"):
        assert big[col].min() >= base[col].min()
        assert big[col].max() <= base[col].max()
        moved = (big[col] - pd.concat([base[col]] * 4, ignore_index=True)).abs()
        assert moved.max() < 0.15 * base[col].std()
    assert big["charges"].isna().sum() == 4


def test_text_ids_get_a_suffix_and_a_bad_factor_is_refused(scale: ModuleType) -> None:
    base = _table().assign(rownames=[f"c{i}" for i in range(10)])
    big = scale.replicate(base, 2, "rownames", seed=0)
    assert big["rownames"].is_unique
    assert big["rownames"].iloc[10] == "c0-x1"
    with pytest.raises(ValueError, match="at least 1"):
        scale.replicate(base, 0, "rownames")
    with pytest.raises(KeyError, match="not in the table"):
        scale.replicate(base, 2, "customer")


def test_settings_override_params_keys(scale: ModuleType) -> None:
    text = "train:\n  seed: 42\n  max_rows: 50000\n"
    assert "max_rows: null" in scale.with_settings(text, ["train.max_rows=null"])
    assert scale.with_settings(text, []) == text
    with pytest.raises(SystemExit, match=r"expected <section>\.<key>=<value>"):
        scale.with_settings(text, ["max_rows=1"])
