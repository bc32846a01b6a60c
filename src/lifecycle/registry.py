"""The MLflow store and the registry aliases champion / challenger / previous."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lifecycle.paths import Paths
from lifecycle.settings import get_settings

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion
    from mlflow.tracking import MlflowClient

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS = "previous"


class RegistryError(RuntimeError):
    """The registry lacks what a step needs (no champion, nothing to roll back to)."""


@dataclass(frozen=True)
class AliasMove:
    """What a promotion or rollback changed."""

    model_name: str
    champion: str
    previous: str | None


def tracking_uri(paths: Paths) -> str:
    """MLFLOW_TRACKING_URI if set, else the embedded SQLite store under the project root."""
    return get_settings().mlflow_tracking_uri or f"sqlite:///{paths.mlflow_db}"


def client(paths: Paths) -> MlflowClient:
    """An MlflowClient on the project's store (also points the fluent API at it)."""
    import mlflow
    from mlflow.tracking import MlflowClient

    uri = tracking_uri(paths)
    # the registry lives in the tracking store (mlflow.set_registry_uri also exports an env
    # variable, so reading MLFLOW_REGISTRY_URI back would pin a stale store)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def ensure_experiment(paths: Paths, name: str) -> str:
    """The experiment's id, created with artifacts under the project (not the cwd's ./mlruns)."""
    import mlflow

    c = client(paths)
    exp = c.get_experiment_by_name(name)
    if exp is not None:
        mlflow.set_experiment(name)
        return str(exp.experiment_id)
    location = None
    if tracking_uri(paths).startswith("sqlite:"):
        location = paths.mlflow_artifacts.as_uri()
    try:
        exp_id = c.create_experiment(name, artifact_location=location)
    except mlflow.exceptions.MlflowException:
        # another process created it between our look-up and our create
        found = c.get_experiment_by_name(name)
        if found is None:
            raise
        exp_id = found.experiment_id
    mlflow.set_experiment(name)
    return str(exp_id)


def version_by_alias(paths: Paths, model_name: str, alias: str) -> ModelVersion | None:
    """The version an alias points at, or None when the alias (or the model) does not exist."""
    from mlflow.exceptions import MlflowException

    try:
        return client(paths).get_model_version_by_alias(model_name, alias)
    except MlflowException:
        return None


def require_alias(paths: Paths, model_name: str, alias: str) -> ModelVersion:
    """Like version_by_alias, but a missing alias is a clear error."""
    found = version_by_alias(paths, model_name, alias)
    if found is None:
        raise RegistryError(
            f"model {model_name!r} has no version with alias {alias!r}; "
            "run `lifecycle train` (or `dvc repro`) first"
        )
    return found


def set_challenger(paths: Paths, model_name: str, version: str) -> None:
    """Point @challenger at a freshly registered version."""
    client(paths).set_registered_model_alias(model_name, CHALLENGER, version)


def promote(paths: Paths, model_name: str, version: str) -> AliasMove:
    """Make `version` champion, keeping the old champion as previous (one-step rollback)."""
    c = client(paths)
    old = version_by_alias(paths, model_name, CHAMPION)
    if old is not None and str(old.version) == str(version):
        return AliasMove(model_name, str(version), None)
    # previous first: a crash between the two calls leaves previous == champion, never a gap
    if old is not None:
        c.set_registered_model_alias(model_name, PREVIOUS, str(old.version))
    c.set_registered_model_alias(model_name, CHAMPION, str(version))
    return AliasMove(model_name, str(version), str(old.version) if old is not None else None)


def rollback(paths: Paths, model_name: str) -> AliasMove:
    """Restore @previous as champion in one step and mark the demoted version."""
    c = client(paths)
    previous = version_by_alias(paths, model_name, PREVIOUS)
    if previous is None:
        raise RegistryError(f"model {model_name!r} has no @previous version to roll back to")
    demoted = version_by_alias(paths, model_name, CHAMPION)
    c.set_registered_model_alias(model_name, CHAMPION, str(previous.version))
    c.delete_registered_model_alias(model_name, PREVIOUS)
    if demoted is not None:
        c.set_model_version_tag(model_name, str(demoted.version), "rolled_back", "true")
    return AliasMove(model_name, str(previous.version), str(demoted.version) if demoted else None)


def model_uri(model_name: str, alias: str) -> str:
    """The models:/ URI MLflow loads from."""
    return f"models:/{model_name}@{alias}"


def load_sklearn(paths: Paths, model_name: str, alias_or_version: str | int) -> object:
    """Load a registered sklearn pipeline by alias (or version number)."""
    import mlflow.sklearn

    client(paths)
    ref = str(alias_or_version)
    uri = f"models:/{model_name}/{ref}" if ref.isdigit() else model_uri(model_name, ref)
    return mlflow.sklearn.load_model(uri)


def input_columns(uri: str) -> list[tuple[str, str]] | None:
    """A logged model's input signature as (column, type) pairs; None when it carries none."""
    from mlflow.models import get_model_info

    signature = get_model_info(uri).signature
    if signature is None or signature.inputs is None:
        return None
    return [(str(c.get("name")), str(c.get("type"))) for c in signature.inputs.to_dict()]


def ensure_same_inputs(model_name: str, uri: str) -> None:
    """Refuse a model whose input signature differs from the champion's (or that has none)."""
    from mlflow.exceptions import MlflowException

    mine = input_columns(uri)
    if mine is None:
        raise RegistryError(f"{uri}: the model carries no input signature; it cannot be served")
    try:
        champion = input_columns(model_uri(model_name, CHAMPION))
    except MlflowException:  # no champion yet: nothing to differ from
        return
    if champion is None or mine == champion:
        return
    theirs, ours = dict(champion), dict(mine)
    missing = sorted(set(theirs) - set(ours))
    extra = sorted(set(ours) - set(theirs))
    retyped = sorted(c for c in set(ours) & set(theirs) if ours[c] != theirs[c])
    raise RegistryError(
        f"{uri} is refused under model {model_name!r}: its input signature differs from the "
        f"champion's (missing {missing}, new {extra}, type changed {retyped}); another table is "
        "another use case: give it its own mlflow.model_name (`lifecycle new`)"
    )
