"""Deployments in a process pool: ingest monthly, monitor daily, train by hand, retrain on drift,
retention daily (privacy.retention_cron).

Every use case of a checkout gets its deployments on the same server: the default one's keep their
plain names (train, ...), another's carry its name (train@pima), its tag (use_case:pima) and
LIFECYCLE_USE_CASE in the worker's environment, so its runs read its params and data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lifecycle.config import Params, load_params
from lifecycle.orchestration.events import DRIFT_EVENT, RETRAIN_LABEL, model_resource
from lifecycle.orchestration.notify import create_automations, run_tag
from lifecycle.paths import DEFAULT_USE_CASE, USE_CASES_DIR, Paths

POOL_TYPE = "process"


@dataclass(frozen=True)
class DeploymentSpec:
    """One deployment: its flow's entry point, when it runs and with which parameters."""

    name: str
    entrypoint: str
    stage: str
    trigger: str
    cron: str | None = None
    on_drift: bool = False


def specs(params: Params) -> tuple[DeploymentSpec, ...]:
    """The five deployments, schedules from params.orchestration (retention: params.privacy)."""
    spec = params.orchestration
    return (
        DeploymentSpec("ingest", entry("ingest"), "ingest", "schedule", spec.ingest_cron),
        DeploymentSpec("monitor", entry("monitor"), "monitor", "schedule", spec.monitor_cron),
        DeploymentSpec("train", entry("train"), "train", "manual"),
        DeploymentSpec("retrain", entry("retrain"), "retrain", "event", on_drift=True),
        DeploymentSpec(
            "retention", entry("retention"), "retention", "schedule", params.privacy.retention_cron
        ),
    )


def deployment_name(name: str, paths: Paths) -> str:
    """The default use case's deployments keep their names; another's carry it (train@pima)."""
    return name if paths.use_case is None else f"{name}@{paths.use_case}"


def entry(name: str) -> str:
    """The entry point of a flow in flows/, relative to the project root."""
    return f"flows/{name}.py:{name}_flow"


def ensure_pool(name: str) -> None:
    """Create the process work pool unless it exists."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=name, type=POOL_TYPE))
        except ObjectAlreadyExists:
            return


def drift_trigger(params: Params) -> Any:
    """Start the retrain when the monitor emits drift that the retrain policy lets through."""
    from prefect.events import DeploymentEventTrigger

    return DeploymentEventTrigger(
        name="retrain-on-drift",
        expect={DRIFT_EVENT},
        match={
            "prefect.resource.id": model_resource(params.mlflow.model_name),
            RETRAIN_LABEL: "true",
        },
        parameters={"window": "{{ event.payload.window }}", "trigger": "event"},
    )


def deploy_one(spec: DeploymentSpec, params: Params, paths: Paths) -> str:
    """Create or update one deployment from the project folder; its id."""
    from prefect import flow
    from prefect.schedules import Cron

    source: Any = flow.from_source(source=str(paths.root), entrypoint=spec.entrypoint)
    tz = params.orchestration.timezone
    env = {"LIFECYCLE_HOME": str(paths.root)}
    if paths.use_case is not None:
        env["LIFECYCLE_USE_CASE"] = paths.use_case
    tags = [f"stage:{spec.stage}", f"trigger:{spec.trigger}", run_tag(paths)]
    deployment_id = source.deploy(
        name=deployment_name(spec.name, paths),
        work_pool_name=params.orchestration.work_pool,
        schedules=[Cron(spec.cron, timezone=tz)] if spec.cron else None,
        triggers=[drift_trigger(params)] if spec.on_drift else None,
        parameters={"trigger": spec.trigger},
        tags=[*tags, f"use_case:{paths.use_case_name}"],
        job_variables={"env": env, "working_dir": str(paths.root)},
        build=False,
        push=False,
        print_next_steps=False,
        ignore_warnings=True,
    )
    return str(deployment_id)


def deploy_all(params: Params, paths: Paths) -> dict[str, str]:
    """The pool, every deployment, then the notification automations; name -> deployment id."""
    ensure_pool(params.orchestration.work_pool)
    made = {s.name: deploy_one(s, params, paths) for s in specs(params)}
    create_automations(params, paths)
    return made


def deploy_every_use_case(default: Params, root: Path) -> dict[str, dict[str, str]]:
    """Every use case's deployments on one server (default first); use case -> name -> id."""
    made = {DEFAULT_USE_CASE: deploy_all(default, Paths(root))}
    for file in sorted((root / USE_CASES_DIR).glob("*/params.yaml")):
        name = file.parent.name
        made[name] = deploy_all(load_params(file), Paths(root, name))
    return made
