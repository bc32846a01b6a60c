"""The MLflow store and the registry aliases champion / challenger / previous.

Every move of a serving alias is kept in a stack on the registered model (tag
`alias_history.<alias>`, a JSON list of versions, the current one last): a promotion pushes, a
rollback pops one or more steps, and `@previous` always names the version one step back. A
rolled-back version is tagged `rolled_back` and `rolled_back_at`; releasing it again needs an
explicit override with a reason (`rollback_override`, `rollback_override_at`), checked by
`rollback_block`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lifecycle.alias_signal import announce
from lifecycle.paths import Paths
from lifecycle.settings import get_settings
from lifecycle.store_seed import seed_sqlite_store

if TYPE_CHECKING:
    from mlflow.entities.model_registry import ModelVersion
    from mlflow.tracking import MlflowClient

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS = "previous"
HISTORY_TAG = "alias_history.{alias}"
HISTORY_KEEP = 100
# mlflow.set_tracking_uri / set_registry_uri / set_experiment export these for subprocesses
MLFLOW_EXPORTS = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFLOW_EXPERIMENT_ID")
ROLLED_BACK, ROLLED_BACK_AT = "rolled_back", "rolled_back_at"
OVERRIDE, OVERRIDE_AT = "rollback_override", "rollback_override_at"


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
    seed_sqlite_store(uri)
    # the registry lives in the tracking store; MLflow exports the URIs it is given as environment
    # variables, which tracking_uri() would then read back as the user's choice and pin every later
    # project of this process (a test run, a multi-project worker) to this store: keep the user's
    with keep_environment(MLFLOW_EXPORTS):
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


@contextmanager
def keep_environment(names: tuple[str, ...]) -> Iterator[None]:
    """Undo what the block wrote to these environment variables (libraries that export state)."""
    saved = {name: os.environ.get(name) for name in names}
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def ensure_experiment(paths: Paths, name: str) -> str:
    """The experiment's id, created with artifacts under the project (not the cwd's ./mlruns)."""
    import mlflow

    c = client(paths)
    exp = c.get_experiment_by_name(name)
    if exp is not None:
        with keep_environment(MLFLOW_EXPORTS):
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
    with keep_environment(MLFLOW_EXPORTS):
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
    announce(paths, model_name, CHALLENGER, version)  # serving workers pre-load it


def now_iso() -> str:
    """A UTC timestamp precise enough to order a rollback and its override."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def alias_history(c: MlflowClient, model_name: str, alias: str) -> list[str]:
    """The alias's stack of versions, oldest first (empty when never recorded)."""
    from mlflow.exceptions import MlflowException

    try:
        raw = c.get_registered_model(model_name).tags.get(HISTORY_TAG.format(alias=alias))
    except MlflowException:
        return []
    try:
        found = json.loads(raw) if raw else []
    except json.JSONDecodeError:
        return []
    return [str(v) for v in found] if isinstance(found, list) else []


def _write_history(c: MlflowClient, model_name: str, alias: str, stack: list[str]) -> None:
    """Store the stack (the newest HISTORY_KEEP entries)."""
    value = json.dumps(stack[-HISTORY_KEEP:])
    c.set_registered_model_tag(model_name, HISTORY_TAG.format(alias=alias), value)


def _current_stack(
    c: MlflowClient, model_name: str, alias: str, previous_alias: str | None
) -> list[str]:
    """The recorded stack, completed with the aliases when they moved without it (older stores)."""
    now = _alias_version(c, model_name, alias)
    if now is None:
        return []  # never set (or removed by hand): the history starts again
    stack = alias_history(c, model_name, alias)
    if stack and stack[-1] == now:
        return stack
    prev = _alias_version(c, model_name, previous_alias) if previous_alias else None
    if prev is not None and prev != now and (not stack or stack[-1] != prev):
        stack.append(prev)
    return [*stack, now]


def _alias_version(c: MlflowClient, model_name: str, alias: str) -> str | None:
    """The version number an alias points at, or None."""
    from mlflow.exceptions import MlflowException

    try:
        return str(c.get_model_version_by_alias(model_name, alias).version)
    except MlflowException:
        return None


def record_move(
    c: MlflowClient, model_name: str, alias: str, version: str, previous_alias: str | None
) -> str | None:
    """Point alias at version, keeping the old one as previous_alias and in the alias's stack.

    Order for a crash: the stack, then previous, then the alias; a crash leaves the stack one
    ahead (completed or corrected at the next move) and previous == alias, never a gap.
    Returns the version the alias held before (None: it was unset or already there).
    """
    stack = _current_stack(c, model_name, alias, previous_alias)
    old = stack[-1] if stack else None
    if old == str(version):
        return None
    _write_history(c, model_name, alias, [*stack, str(version)])
    if old is not None and previous_alias:
        c.set_registered_model_alias(model_name, previous_alias, old)
    c.set_registered_model_alias(model_name, alias, str(version))
    return old


def promote(paths: Paths, model_name: str, version: str) -> AliasMove:
    """Make `version` champion, keeping the old champion as previous and in the history."""
    old = record_move(client(paths), model_name, CHAMPION, str(version), PREVIOUS)
    announce(paths, model_name, CHAMPION, str(version))  # every serving worker, at once
    return AliasMove(model_name, str(version), old)


def rollback(
    paths: Paths,
    model_name: str,
    steps: int = 1,
    to_version: str | None = None,
    alias: str = CHAMPION,
    previous_alias: str | None = PREVIOUS,
) -> AliasMove:
    """Go back `steps` champions (or to `to_version`) through the alias history; mark the demoted.

    The versions popped off the stack are left as they were, except the demoted champion, which
    is tagged `rolled_back` so that it is not released again without an explicit override.
    """
    c = client(paths)
    stack = _current_stack(c, model_name, alias, previous_alias)
    shown = ", ".join(f"v{v}" for v in stack) or "empty"
    if to_version is not None:
        earlier = stack[:-1]
        if str(to_version) not in earlier:
            raise RegistryError(
                f"model {model_name!r}: v{to_version} was not an earlier @{alias} "
                f"(alias history: {shown})"
            )
        steps = len(stack) - 1 - max(i for i, v in enumerate(earlier) if v == str(to_version))
    if steps < 1:
        raise RegistryError(f"rollback steps = {steps}: must be 1 or more")
    if len(stack) <= steps:
        if len(stack) <= 1:
            raise RegistryError(
                f"model {model_name!r} has no @{previous_alias or 'previous'} version to roll back "
                f"to (alias history: {shown})"
            )
        raise RegistryError(
            f"model {model_name!r}: cannot go back {steps} step(s), the alias history holds "
            f"{len(stack) - 1} earlier version(s) ({shown})"
        )
    demoted, kept = stack[-1], stack[:-steps]
    target = kept[-1]
    _write_history(c, model_name, alias, kept)
    c.set_registered_model_alias(model_name, alias, target)
    announce(paths, model_name, alias, target)  # every serving worker
    if previous_alias:
        if len(kept) > 1:
            c.set_registered_model_alias(model_name, previous_alias, kept[-2])
        else:
            c.delete_registered_model_alias(model_name, previous_alias)
    for key, value in {
        ROLLED_BACK: "true",
        ROLLED_BACK_AT: now_iso(),
        "rolled_back_to": target,
    }.items():
        c.set_model_version_tag(model_name, demoted, key, value)
    return AliasMove(model_name, target, demoted)


def rollback_block(tags: dict[str, str]) -> str | None:
    """Why a version may not be released again (rolled back, no later override), or None."""
    if tags.get(ROLLED_BACK) != "true":
        return None
    at = tags.get(ROLLED_BACK_AT, "")
    override_at = tags.get(OVERRIDE_AT)
    if override_at and override_at > at:
        return None
    when = f" at {at}" if at else ""
    back = f" (champion went back to v{tags['rolled_back_to']})" if "rolled_back_to" in tags else ""
    return f"it was rolled back{when}{back}"


def record_override(c: MlflowClient, model_name: str, version: str, reason: str, by: str) -> None:
    """Record an explicit override of a rollback on the version: who, why and when."""
    why = " ".join(reason.split())
    if not why:
        raise RegistryError("an override of a rollback needs a reason")
    c.set_model_version_tag(model_name, version, OVERRIDE, f"{by}: {why}"[:4000])
    c.set_model_version_tag(model_name, version, OVERRIDE_AT, now_iso())


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
