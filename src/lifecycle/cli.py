"""`lifecycle`: one command per stage (what dvc.yaml calls), plus the main job and the registry."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from lifecycle.ci.cli import ci_app
from lifecycle.commands import release
from lifecycle.commands.flows import flow_run, server_app
from lifecycle.commands.ledger import ledger_app
from lifecycle.commands.monitor import monitor
from lifecycle.commands.new import UseCaseError, activate, new
from lifecycle.commands.privacy import forget
from lifecycle.commands.serve import score, serve
from lifecycle.commands.simulate import simulate
from lifecycle.commands.ui import ui
from lifecycle.env import apply_offline_defaults
from lifecycle.ledger.pricing import LedgerError
from lifecycle.paths import Paths

# Imports inside the commands below are of modules that load pydantic-settings, pandas,
# scikit-learn, MLflow or Prefect: kept lazy so that `lifecycle --help` stays quick.

app = typer.Typer(
    name="lifecycle",
    help="The lifecycle of a binary classifier: ingest, validate, train, evaluate, promote.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

T = TypeVar("T")
ParamsOpt = Annotated[
    Path | None,
    typer.Option(
        "--params",
        help="params file (default: LIFECYCLE_PARAMS, else params.yaml in LIFECYCLE_HOME or the "
        "current folder)",
    ),
]


def _mount() -> None:
    """Sub-commands that live beside their code (their modules import nothing heavy)."""
    app.add_typer(
        ledger_app, name="ledger", help="The cost ledger: report, budget, estimate, dashboard."
    )
    app.add_typer(server_app, name="server", help="The local Prefect server: start, stop, status.")
    app.add_typer(
        ci_app, name="ci", help="What the GitHub workflows call: sample, pr-comment, smoke."
    )
    app.command("monitor")(monitor)
    app.command("new")(new)
    app.command("forget")(forget)
    app.command("simulate")(simulate)
    app.command("ui")(ui)
    app.command("flow")(flow_run)
    app.command("serve")(serve)
    app.command("score")(score)
    app.command("approve")(release.approve)
    app.command("promote-staging")(release.promote_staging)
    app.command("export-onnx")(release.export_onnx)
    app.command("explain")(release.explain)
    app.command("fairness")(release.fairness)


UseCaseOpt = Annotated[
    str | None,
    typer.Option("--use-case", help="a use case of `lifecycle new` (use_cases/<name>/)"),
]


@app.callback()
def _main(use_case: UseCaseOpt = None) -> None:
    """Quiet and offline before any tool is imported; `--use-case` before any command."""
    apply_offline_defaults()
    if use_case is not None:
        _use(use_case)


def _use(name: str) -> None:
    """Make use case `name` the one every later step reads (or end with why not)."""
    from lifecycle.settings import get_settings  # lazy: pydantic-settings slows --help

    try:
        activate(name, get_settings().root)
    except UseCaseError as err:
        _fail(str(err))


def _fail(message: str, code: int = 1) -> None:
    """Print a clear error (no traceback) and exit."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


@contextmanager
def _clear_errors() -> Iterator[None]:
    """The project's own errors end the command with their message, not a traceback."""
    from lifecycle.config import ConfigError

    known: tuple[type[BaseException], ...] = (ConfigError,)
    try:
        from lifecycle.features import TargetError
        from lifecycle.ingest import SourceError
        from lifecycle.registry import RegistryError
        from lifecycle.validate import ValidationFailedError

        known = (*known, SourceError, ValidationFailedError, RegistryError, TargetError)
    except ImportError:  # pragma: no cover - the package is always complete
        pass
    try:
        yield
    except known as err:
        _fail(str(err))


def _setup(params_file: Path | None) -> tuple[Any, Any]:
    """Params and paths for a command; a bad params file ends it with the key and the rule."""
    from lifecycle.config import ConfigError, load_params

    try:
        return load_params(params_file), Paths.from_env()
    except ConfigError as err:
        _fail(str(err))
        raise  # unreachable: _fail exits


def _trigger() -> str:
    """Why this run happens: LIFECYCLE_TRIGGER, else ci under CI, else manual."""
    from lifecycle.settings import get_settings  # lazy: pydantic-settings slows --help

    found = get_settings()
    return found.trigger or ("ci" if found.ci else "manual")


def _phase() -> str:
    """The project phase a run is charged to (LIFECYCLE_PHASE, default development)."""
    from lifecycle.settings import get_settings  # lazy: pydantic-settings slows --help

    return get_settings().phase or "development"


def _charge(run: Any, activity: str) -> None:
    """Charge a staffing activity; one params does not define is a warning, not a failed stage."""
    try:
        run.charge(activity)
    except LedgerError as err:
        typer.secho(f"ledger: {activity} not charged: {err}", fg=typer.colors.YELLOW, err=True)


def _stage(
    name: str,
    params_file: Path | None,
    work: Callable[[Any, Any], T],
    link: Callable[[Any, T], None] | None = None,
) -> T:
    """Run one pipeline stage with clear errors, metered as one ledger entry (failures too)."""
    from lifecycle.ledger.meter import metered
    from lifecycle.validate import ValidationFailedError

    params, paths = _setup(params_file)
    with (
        _clear_errors(),
        metered("dvc_stage", name, _phase(), _trigger(), params=params, paths=paths) as run,
    ):
        try:
            result = work(params, paths)
        except ValidationFailedError:
            _charge(run, "validation_triage")
            raise
        if link is not None:
            link(run, result)
        return result
    raise AssertionError("unreachable")  # pragma: no cover


@app.command()
def ingest(params: ParamsOpt = None) -> None:
    """Snapshot the source into data/raw and write the simulated monthly batches."""
    from lifecycle import ingest as mod

    res = _stage("ingest", params, lambda p, d: mod.ingest(p.data, p.simulation, d))
    typer.echo(
        f"ingested {res.rows} rows: reference period {res.reference_rows} rows -> {res.reference}, "
        f"{len(res.batches)} monthly batches -> {res.batches[0].parent if res.batches else '-'}"
    )


@app.command()
def validate(
    params: ParamsOpt = None,
    batch: Annotated[Path | None, typer.Option(help="validate this file instead")] = None,
) -> None:
    """Gate the reference period (or any batch) through the Great Expectations suite."""
    from lifecycle import validate as mod

    if batch is None:
        rep = _stage("validate", params, mod.validate_reference)
    else:
        rep = _stage("validate", params, lambda p, d: mod.validate_file(batch, p, d))
    typer.echo(f"batch {rep.batch!r}: {rep.rows} rows passed {rep.expectations} expectations")


@app.command()
def split(params: ParamsOpt = None) -> None:
    """Stratified split of the validated data into train and holdout."""
    from lifecycle import features

    res = _stage("split", params, features.split)
    typer.echo(
        f"train {res.train_rows} rows, holdout {res.holdout_rows} rows, "
        f"positive rate {res.positive_rate:.3f}"
    )


@app.command()
def train(params: ParamsOpt = None) -> None:
    """Fit every candidate as an MLflow run and register the best as @challenger."""
    from lifecycle import train as mod

    def link(run: Any, res: Any) -> None:
        run.link(mlflow_run_id=res.run_id, model_version=res.version, data_version=res.data_version)

    res = _stage("train", params, mod.train, link)
    for c in res.candidates:
        typer.echo(
            f"  {c.name:<12} {res.selection_metric} {c.selection_score:12.4f}  run {c.run_id}"
        )
    how = "reused" if res.reused else "registered"
    typer.echo(f"{how} {res.model_name} v{res.version} ({res.candidate}) as @challenger")


@app.command()
def evaluate(
    params: ParamsOpt = None,
    dry_run: Annotated[bool, typer.Option(help="decide but move no alias")] = False,
) -> None:
    """Champion vs challenger on the holdout; promote when the bootstrap says so."""
    from lifecycle import evaluate as mod
    from lifecycle.promote import apply_decision

    def work(p: Any, d: Any) -> tuple[Any, str | None]:
        decision = mod.evaluate(p, d)
        if dry_run:
            return decision, decision.champion_version
        return decision, apply_decision(decision, p, d)

    def link(run: Any, result: tuple[Any, str | None]) -> None:
        decision, champion = result
        run.link(model_version=champion or decision.challenger_version)
        if decision.promote and not dry_run:
            _charge(run, "promotion_review")

    decision, champion = _stage("evaluate", params, work, link)
    staged = decision.promote and champion != decision.challenger_version and not dry_run
    verb = "STAGED" if staged else ("PROMOTED" if decision.promote else "kept")
    typer.echo(f"{verb}: {decision.reason}")
    if staged:
        typer.echo(
            f"v{decision.challenger_version} waits for approval: "
            f"lifecycle approve {decision.challenger_version} --by <name>"
        )
    typer.echo(f"champion is now v{champion}" if champion else "no champion")


@app.command()
def rollback(
    params: ParamsOpt = None,
    steps: Annotated[int, typer.Option(min=1, help="champions to go back")] = 1,
    to_version: Annotated[str | None, typer.Option(help="go back to this earlier champion")] = None,
) -> None:
    """Go back through the champion's alias history (one step, N steps or to a version)."""
    from lifecycle import registry

    def link(run: Any, move: Any) -> None:
        run.link(model_version=move.champion)
        _charge(run, "rollback")

    def work(p: Any, d: Any) -> Any:
        return registry.rollback(d, p.mlflow.model_name, steps=steps, to_version=to_version)

    move = _stage("rollback", params, work, link)
    typer.echo(f"champion is v{move.champion} again (v{move.previous} demoted)")


@app.command()
def summary(params: ParamsOpt = None) -> None:
    """What the last run produced: champion, its metrics, reports, how to open the UIs."""
    from lifecycle.summary import render_summary

    p, d = _setup(params)
    with _clear_errors():
        typer.echo(render_summary(p, d))


def _record_setup(params: Any) -> None:
    """The environment sync `make run` timed before this process (LIFECYCLE_SETUP_USAGE), once."""
    import os

    from lifecycle.ledger.record import record_setup
    from lifecycle.settings import get_settings

    found = get_settings().setup_usage
    if not found:
        return
    user, system, wall = (float(x) for x in found.split())
    os.environ.pop("LIFECYCLE_SETUP_USAGE", None)  # recorded once, not again by a nested call
    with _clear_errors():
        record_setup(user + system, wall, phase=_phase(), trigger=_trigger(), params=params)


def _metered_summary(params: Any, paths: Any) -> str:
    """The run's closing summary as a ledger entry: it claims the CLI's tail after the flows."""
    from lifecycle.ledger.meter import metered
    from lifecycle.summary import render_summary

    # the outermost entry claims the CPU no run claimed since the flows ended (the flow engine's
    # teardown, the registry read below), so the ledger matches the OS for the whole command
    with metered(
        "job",
        "run-summary",
        _phase(),
        _trigger(),
        params=params,
        paths=paths,
        measure_storage=False,
        tag=False,
    ):
        return render_summary(params, paths)
    raise AssertionError("unreachable")  # pragma: no cover


@app.command()
def run(
    params: ParamsOpt = None,
    force: Annotated[bool, typer.Option(help="rerun every stage (with --dvc)")] = False,
    dvc: Annotated[bool, typer.Option("--dvc", help="the DVC path: dvc repro")] = False,
    month: Annotated[int | None, typer.Option(help="the simulated month to monitor")] = None,
    scenario: Annotated[str | None, typer.Option(help="a drift scenario for that month")] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="no progress bar (none either when piped or CI)")
    ] = False,
    use_case: UseCaseOpt = None,
) -> None:
    """The main job: the lifecycle flow on the local Prefect server (or `dvc repro` with --dvc)."""
    import subprocess

    from lifecycle.summary import render_summary

    if use_case is not None:
        _use(use_case)
    p, d = _setup(params)
    _record_setup(p)
    if dvc and d.use_case:
        _fail(
            "--dvc: a use case's stages are in use_cases/dvc.yaml: "
            f"dvc repro 'use_cases/dvc.yaml:evaluate@{d.use_case}' (or run without --dvc)"
        )
    if not dvc:
        from lifecycle.commands.flows import run_lifecycle
        from lifecycle.orchestration.server import ServerError

        with _clear_errors():
            try:
                run_lifecycle(params, month, scenario, quiet=quiet)
            except ServerError as err:
                _fail(str(err))
            typer.echo(_metered_summary(p, d))
        return
    cmd = [str(Path(sys.executable).with_name("dvc")), "--wait-for-lock", "repro"]
    if force:
        cmd.append("--force")
    typer.echo(f"$ dvc repro{' --force' if force else ''}")
    done = subprocess.run(cmd, cwd=d.root, check=False)
    if done.returncode != 0:
        _fail(f"dvc repro failed (exit {done.returncode}); see the stage's message above")
    with _clear_errors():
        typer.echo(render_summary(p, d))


_mount()

if __name__ == "__main__":  # pragma: no cover
    app()
