"""The environment is read in one place, and a change to it is seen by the next reader."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lifecycle.config import load_params, load_params_for
from lifecycle.paths import Paths
from lifecycle.settings import ENV_NAMES, Settings, SettingsError, get_settings

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """None of the project's variables set."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_without_any_variable(bare_env: pytest.MonkeyPatch) -> None:
    found = get_settings()
    assert found.params_file == Path("params.yaml")
    assert found.root == Path.cwd()
    assert (found.host, found.port, found.prefect_server_port) == ("127.0.0.1", 8000, 4200)
    assert found.mlflow_tracking_uri is None and found.ledger_url is None
    assert found.ci is False and found.run_url is None


def test_one_default_params_path(bare_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    bare_env.setenv("LIFECYCLE_HOME", str(tmp_path))
    assert get_settings().params_file == tmp_path / "params.yaml"
    assert Paths.from_env().root == tmp_path.resolve()
    bare_env.setenv("LIFECYCLE_PARAMS", str(tmp_path / "other.yaml"))
    assert get_settings().params_file == tmp_path / "other.yaml"


def test_load_params_none_reads_the_home_params(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("LIFECYCLE_PARAMS")
    monkeypatch.delenv("LIFECYCLE_ENV", raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_params(None) == load_params(project / "params.yaml")
    assert load_params_for(None, None) == load_params(project / "params.yaml")


def test_a_changed_variable_is_seen_at_once(bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("MLFLOW_TRACKING_URI", "sqlite:///one.db")
    assert get_settings().mlflow_tracking_uri == "sqlite:///one.db"
    bare_env.setenv("MLFLOW_TRACKING_URI", "sqlite:///two.db")
    assert get_settings().mlflow_tracking_uri == "sqlite:///two.db"
    bare_env.delenv("MLFLOW_TRACKING_URI")
    assert get_settings().mlflow_tracking_uri is None
    assert get_settings() is get_settings()  # unchanged environment: the same object


def test_empty_values_count_as_unset(bare_env: pytest.MonkeyPatch) -> None:
    for name in ("LIFECYCLE_PARAMS", "LIFECYCLE_PORT", "LIFECYCLE_ADMIN_TOKEN", "LIFECYCLE_ENV"):
        bare_env.setenv(name, "")
    found = get_settings()
    assert found.params_file == Path("params.yaml")
    assert (found.port, found.admin_token, found.env) == (8000, None, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("1", True), ("TRUE", True), ("false", False), ("yes", False)],
)
def test_ci_flag(bare_env: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    bare_env.setenv("CI", value)
    assert get_settings().ci is expected


def test_a_bad_value_names_the_variable(bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("PREFECT_SERVER_PORT", "four-two")
    with pytest.raises(SettingsError, match=r"PREFECT_SERVER_PORT = 'four-two'"):
        get_settings()


def test_only_the_listed_names_count(bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("port", "1234")
    bare_env.setenv("lifecycle_port", "1234")
    assert get_settings().port == 8000


def test_settings_are_frozen_and_keep_tokens_out_of_logs(bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("LIFECYCLE_ADMIN_TOKEN", "s3cret")
    found = get_settings()
    assert found.admin_token == "s3cret"
    assert "s3cret" not in repr(found)
    with pytest.raises(Exception, match="frozen"):
        found.port = 1  # type: ignore[misc]


def test_github_run_url(bare_env: pytest.MonkeyPatch) -> None:
    bare_env.setenv("GITHUB_SERVER_URL", "https://github.com")
    bare_env.setenv("GITHUB_REPOSITORY", "o/r")
    bare_env.setenv("GITHUB_RUN_ID", "7")
    assert get_settings().run_url == "https://github.com/o/r/actions/runs/7"


def test_env_example_lists_every_variable() -> None:
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (REPO / ".env.example").read_text(), re.M))
    assert set(ENV_NAMES) <= listed, sorted(set(ENV_NAMES) - listed)
    assert len(ENV_NAMES) == len(Settings.model_fields)


def test_the_prefect_ui_follows_the_server_port_unless_set(bare_env: pytest.MonkeyPatch) -> None:
    """Changing PREFECT_SERVER_PORT moves the UI links with it; PREFECT_UI_URL still wins."""
    assert get_settings().prefect_ui_url == "http://127.0.0.1:4200"
    bare_env.setenv("PREFECT_SERVER_PORT", "4321")
    assert get_settings().prefect_ui_url == "http://127.0.0.1:4321"
    bare_env.setenv("PREFECT_UI_URL", "http://prefect.internal:8080")
    assert get_settings().prefect_ui_url == "http://prefect.internal:8080"
