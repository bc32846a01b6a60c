"""Personal values written as pseudonyms: rows and frames, the key's sources, bad params."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from lifecycle.config import Params
from lifecycle.privacy import KEY_FILE, Masker, mask_frame, masker, project_key, pseudonym_of
from lifecycle.pseudonym import PseudonymKeyError, is_pseudonym, pseudonymize

KEY = b"k" * 32


def test_rows_with_an_id_are_pseudonymized_and_the_rest_kept() -> None:
    """The id (and declared columns) become pseudonyms; nulls, features and other rows stay."""
    m = Masker(KEY, ("customer_id", "email"))
    rows = [{"customer_id": "7590-VHVEG", "tenure": 3}, {"tenure": 5}, {"customer_id": None}]
    out = m(rows)
    assert out[0] == {"customer_id": pseudonymize("7590-VHVEG", KEY), "tenure": 3}
    assert out[1] is rows[1] and out[2] == {"customer_id": None}
    assert rows[0]["customer_id"] == "7590-VHVEG"  # the caller's rows are not changed
    plain = [{"tenure": 1}]
    assert m(plain) is plain  # nothing personal: the same list, no copy
    assert m(out)[0] == out[0]  # a pseudonym is never hashed again (joins keep working)
    assert m([{"customer_id": 17.0}])[0]["customer_id"] == pseudonym_of(17, KEY)


def test_a_frame_gets_the_same_pseudonyms_as_the_rows() -> None:
    """A window written from a frame joins with the log written from rows."""
    m = Masker(KEY, ("customer_id",))
    frame = pd.DataFrame({"customer_id": ["a-1", None, "b-2"], "tenure": [1, 2, 3]})
    out = m.frame(frame)
    ids = out["customer_id"]
    assert ids.isna().tolist() == [False, True, False]
    assert [ids[0], ids[2]] == [m.value("a-1"), m.value("b-2")]
    assert frame["customer_id"].tolist()[0] == "a-1"
    assert out["tenure"].tolist() == [1, 2, 3]


def test_local_mode_makes_one_private_key_and_keeps_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No variable, no LIFECYCLE_ENV: a 0600 key file, the same key on every later call."""
    monkeypatch.delenv("LIFECYCLE_PSEUDONYM_KEY", raising=False)
    monkeypatch.delenv("LIFECYCLE_ENV", raising=False)
    first = project_key(tmp_path)
    assert len(first) >= 32 and project_key(tmp_path) == first
    mode = stat.S_IMODE((tmp_path / KEY_FILE).stat().st_mode)
    assert mode == 0o600
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE]  # no temp file left behind


def test_the_variable_wins_and_staging_needs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LIFECYCLE_PSEUDONYM_KEY is used when set; with LIFECYCLE_ENV set and no key: an error."""
    monkeypatch.setenv("LIFECYCLE_PSEUDONYM_KEY", "0123456789abcdef0123")
    assert project_key(tmp_path) == b"0123456789abcdef0123"
    assert not (tmp_path / KEY_FILE).exists()
    monkeypatch.delenv("LIFECYCLE_PSEUDONYM_KEY")
    monkeypatch.setenv("LIFECYCLE_ENV", "production")
    with pytest.raises(PseudonymKeyError, match="LIFECYCLE_PSEUDONYM_KEY is not set and LIFECYC"):
        project_key(tmp_path)


def test_params_mark_more_columns_personal_but_never_a_feature(
    make_params: Callable[..., Params], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`privacy.personal` adds columns; a feature there is refused, naming it and the rule."""
    monkeypatch.setenv("LIFECYCLE_PSEUDONYM_KEY", "0123456789abcdef0123")
    params = make_params(privacy={"personal": ["email"]})
    frame = pd.DataFrame({params.data.id_column: ["x"], "email": ["a@b.c"], "tenure": [1]})
    out = mask_frame(params, tmp_path, frame)
    assert is_pseudonym(out["email"][0]) and is_pseudonym(out[params.data.id_column][0])
    assert masker(params, tmp_path).columns == (params.data.id_column, "email")
    with pytest.raises(ValueError, match=r"privacy.personal\[0\]: 'tenure' is a feature"):
        make_params(privacy={"personal": ["tenure"]})


def test_a_validation_report_names_a_duplicated_id_without_its_value(
    params: Params, table: pd.DataFrame
) -> None:
    """The count and the rule stay (what a person acts on); the id itself is not written."""
    from lifecycle.validate import validate_frame

    batch = table.head(40).copy()
    ids = [f"CUST{v}Q" for v in batch[params.data.id_column]]  # text no count can contain
    duplicated = ids[1] = ids[0]
    batch[params.data.id_column] = ids
    report = validate_frame(batch, params, "dup")
    [failure] = [f for f in report.failures if f.column == params.data.id_column]
    assert failure.rows == 2 and failure.examples == []
    assert duplicated not in str(report.to_json())


def test_a_service_outside_local_mode_without_the_key_does_not_start(
    params: Params, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LIFECYCLE_ENV=production and no key: building the service fails, naming the variable."""
    from lifecycle.paths import Paths
    from lifecycle.serve.state import ServeSettings, ServiceState

    monkeypatch.delenv("LIFECYCLE_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("LIFECYCLE_ENV", "production")
    with pytest.raises(PseudonymKeyError, match="LIFECYCLE_PSEUDONYM_KEY is not set"):
        ServiceState(ServeSettings(params, Paths(tmp_path), "op"))
    monkeypatch.setenv("LIFECYCLE_PSEUDONYM_KEY", "0123456789abcdef0123")
    state = ServiceState(ServeSettings(params, Paths(tmp_path), "op"))
    assert state.mask.columns == (params.data.id_column,)
    assert not (tmp_path / KEY_FILE).exists()
