"""Staging and production: one registry alias each, and the human approval production needs.

Both environments read the same registered model; each serves its own alias
(`release.staging.alias`, `release.production.alias`, by default `staging` and `champion`,
so the serving code that loads @champion is production). `LIFECYCLE_ENV` picks the
environment a process runs as and the params overlay it reads (`load_params_for`).

A challenger that passes the automatic gates (bootstrap and fairness, in `evaluate`) goes to
staging. It reaches production only through `approve(version, by)`, which records who and
when on the model version and its run, moves production's alias (keeping the old version
under `previous_alias` for rollback) and charges `promotion_review` to the ledger. Where
`release.production.requires_approval` is false (local development), the staged version is
approved at once by "auto", with no review charged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lifecycle.alias_signal import announce
from lifecycle.config import ENVIRONMENTS, EnvironmentSpec, Params
from lifecycle.ledger.meter import metered
from lifecycle.ledger.pricing import LedgerError
from lifecycle.registry import (
    RegistryError,
    client,
    ensure_same_inputs,
    record_move,
    record_override,
    rollback_block,
    version_by_alias,
)
from lifecycle.settings import get_settings

if TYPE_CHECKING:
    from mlflow.tracking import MlflowClient

    from lifecycle.paths import Paths

log = logging.getLogger(__name__)
AUTO = "auto"
REVIEW_ACTIVITY = "promotion_review"


class ReleaseError(RuntimeError):
    """A release step refused: unknown environment, a version not staged, a failed gate."""


@dataclass(frozen=True)
class Approval:
    """Who approved which version for production, when, and what production served before."""

    model_name: str
    version: str
    by: str
    at: str
    alias: str
    previous: str | None
    note: str | None
    ledger_key: str | None


@dataclass(frozen=True)
class ReleaseOutcome:
    """Where a gated challenger went: always staging, production when no approval is needed."""

    staged: str
    production: str | None
    approved: Approval | None


def current_env() -> str:
    """The environment this process runs as: LIFECYCLE_ENV, production by default."""
    env = get_settings().env or "production"
    if env not in ENVIRONMENTS:
        raise ReleaseError(f"LIFECYCLE_ENV = {env!r}: must be one of {list(ENVIRONMENTS)}")
    return env


def spec(params: Params, env: str) -> EnvironmentSpec:
    """An environment's settings, refusing unknown names."""
    if env == "staging":
        return params.release.staging
    if env == "production":
        return params.release.production
    raise ReleaseError(f"environment {env!r}: must be one of {list(ENVIRONMENTS)}")


def alias_for(params: Params, env: str | None = None) -> str:
    """The registry alias an environment serves (the serving side loads models:/<name>@alias)."""
    return spec(params, env or current_env()).alias


def version_in(params: Params, paths: Paths, env: str) -> str | None:
    """The version an environment serves now, or None."""
    found = version_by_alias(paths, params.mlflow.model_name, alias_for(params, env))
    return None if found is None else str(found.version)


def _move(c: MlflowClient, name: str, target: EnvironmentSpec, version: str) -> str | None:
    """Point the alias at version, keeping the old one under previous_alias and in its history."""
    ensure_same_inputs(name, f"models:/{name}/{version}")
    return record_move(c, name, target.alias, version, target.previous_alias)


def _check_rollback(
    c: MlflowClient, name: str, version: str, override: str | None, by: str
) -> None:
    """Refuse a rolled-back version unless an override with a reason is given (and record it)."""
    block = rollback_block(c.get_model_version(name, version).tags)
    if block is None:
        return
    if override is None or not override.strip():
        raise ReleaseError(
            f"v{version} may not be released again: {block}; to release it anyway, give the "
            "reason: --override-rollback '<why it is safe now>'"
        )
    record_override(c, name, version, override, by)
    log.warning("v%s released again despite its rollback, by %s: %s", version, by, override)


def _check_gates(c: MlflowClient, name: str, version: str) -> None:
    """Refuse a version whose training run failed the fairness gate."""
    run_id = c.get_model_version(name, version).run_id
    if not run_id:
        return
    tags = c.get_run(run_id).data.tags
    if tags.get("fairness.passed") == "false":
        raise ReleaseError(
            f"v{version} failed the fairness gate and may not be released: "
            f"{tags.get('fairness.reason', '?')}"
        )


def promote_staging(
    params: Params, paths: Paths, version: str, *, override: str | None = None, by: str = "cli"
) -> str | None:
    """Put a version on staging (its gates passed, not rolled back unless overridden)."""
    from mlflow.exceptions import MlflowException

    c = client(paths)
    name = params.mlflow.model_name
    try:
        c.get_model_version(name, version)
    except MlflowException:
        raise RegistryError(f"model {name!r} has no version {version}") from None
    _check_gates(c, name, version)
    _check_rollback(c, name, version, override, by)
    old = _move(c, name, params.release.staging, version)
    announce(paths, name, params.release.staging.alias, version)  # serving workers, at once
    now = datetime.now(UTC).isoformat(timespec="seconds")
    c.set_model_version_tag(name, version, "staged_at", now)
    return old


def approve(
    params: Params,
    paths: Paths,
    version: str,
    by: str,
    *,
    note: str | None = None,
    phase: str = "deployment",
    trigger: str = "manual",
    charge: bool = True,
    override: str | None = None,
) -> Approval:
    """Approve the staged version for production: record who and when, move the alias, charge.

    A version rolled back before needs `override` (the reason), recorded with the approver.
    """
    who = " ".join(by.split())
    if not who:
        raise ReleaseError("an approval needs the approver's name (--by)")
    staged = version_in(params, paths, "staging")
    if staged != str(version):
        where = f"staging holds v{staged}" if staged else "staging is empty"
        raise ReleaseError(f"v{version} is not on staging ({where}); only a staged version "
                           "may be approved for production")  # fmt: skip
    _check_rollback(client(paths), params.mlflow.model_name, str(version), override, who)
    if not charge:
        return _record_approval(params, paths, str(version), who, note, None)
    with metered(
        "job", "approve", phase, trigger, params=params, paths=paths, measure_storage=False
    ) as run:
        run.link(model_version=str(version))
        run.note = f"v{version} approved for production by {who}" + (f": {note}" if note else "")
        try:
            run.charge(REVIEW_ACTIVITY)
        except LedgerError as err:
            log.warning("ledger: %s not charged: %s", REVIEW_ACTIVITY, err)
        return _record_approval(params, paths, str(version), who, note, run.key)
    raise AssertionError("unreachable")  # pragma: no cover


def _record_approval(
    params: Params,
    paths: Paths,
    version: str,
    by: str,
    note: str | None,
    ledger_key: str | None,
) -> Approval:
    """Tags on the version and its run, a line in the version's description, then the alias."""
    c = client(paths)
    name = params.mlflow.model_name
    target = params.release.production
    _check_gates(c, name, version)
    at = datetime.now(UTC).isoformat(timespec="seconds")
    tags = {"approved_by": by, "approved_at": at, "approval_note": (note or "")[:4000]}
    if ledger_key:
        tags["approval_ledger_key"] = ledger_key
    for key, value in tags.items():
        c.set_model_version_tag(name, version, key, value)
    mv = c.get_model_version(name, version)
    if mv.run_id:
        for key, value in tags.items():
            c.set_tag(mv.run_id, f"release.{key}", value)
    line = f"approved for production (@{target.alias}) by {by} at {at}"
    description = f"{mv.description}\n{line}" if mv.description else line
    c.update_model_version(name, version, description=description[-5000:])
    previous = _move(c, name, target, version)
    announce(paths, name, target.alias, version)  # serving workers, at once
    return Approval(name, version, by, at, target.alias, previous, note, ledger_key)


def release_gated(params: Params, paths: Paths, version: str) -> ReleaseOutcome:
    """A challenger that passed the gates: to staging, and on to production if none must approve."""
    promote_staging(params, paths, version)
    if params.release.production.requires_approval:
        return ReleaseOutcome(version, version_in(params, paths, "production"), None)
    approval = approve(params, paths, version, AUTO, note="release.production.requires_approval "
                       "is false", charge=False)  # fmt: skip
    return ReleaseOutcome(version, version, approval)
