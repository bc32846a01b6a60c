"""Release commands: approve for production, stage, export to ONNX, explain a record, fairness.

The deploy workflow calls these (not inline scripts). Each reads params through
`load_params_for`, so `LIFECYCLE_ENV=staging|production` picks the environment's overlay.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from lifecycle.paths import Paths

ParamsOpt = Annotated[
    Path | None,
    typer.Option(
        "--params",
        help="params file (default: LIFECYCLE_PARAMS, else params.yaml in LIFECYCLE_HOME or the "
        "current folder)",
    ),
]


OverrideOpt = Annotated[
    str | None,
    typer.Option(
        "--override-rollback",
        help="release a version that was rolled back; the reason is recorded on the version",
    ),
]


def _fail(message: str) -> None:
    """Print a clear error and exit 1."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _setup(params_file: Path | None) -> tuple[Any, Any]:
    """Params for this environment, and the project's paths."""
    from lifecycle.config import ConfigError, load_params_for

    try:
        return load_params_for(None, params_file), Paths.from_env()
    except ConfigError as err:
        _fail(str(err))
        raise  # unreachable


def _resolve(params: Any, paths: Any, ref: str) -> str:
    """A version number from a number, an alias, or an environment name."""
    from lifecycle.environments import alias_for
    from lifecycle.registry import require_alias

    if ref.isdigit():
        return ref
    alias = alias_for(params, ref) if ref in ("staging", "production") else ref
    return str(require_alias(paths, params.mlflow.model_name, alias).version)


def _errors(*more: type[BaseException]) -> tuple[type[BaseException], ...]:
    """The project's errors that end a command with their message, not a traceback."""
    from lifecycle.config import ConfigError
    from lifecycle.environments import ReleaseError
    from lifecycle.fairness import FairnessError
    from lifecycle.registry import RegistryError

    return (ConfigError, ReleaseError, FairnessError, RegistryError, ValueError, *more)


def approve(
    version: Annotated[str, typer.Argument(help="the staged version to approve for production")],
    by: Annotated[str, typer.Option("--by", help="who approves (recorded on the version)")],
    note: Annotated[str | None, typer.Option("--note", help="why, for the record")] = None,
    override: OverrideOpt = None,
    params_file: ParamsOpt = None,
) -> None:
    """Approve the staged version for production: record who and when, move the alias."""
    from lifecycle.environments import approve as do_approve
    from lifecycle.settings import get_settings

    params, paths = _setup(params_file)
    found = get_settings()
    try:
        done = do_approve(
            params,
            paths,
            version,
            by,
            note=note,
            phase=found.phase or "deployment",
            trigger="ci" if found.ci else "manual",
            override=override,
        )
    except _errors() as err:
        _fail(str(err))
        return
    before = f" (was v{done.previous})" if done.previous else ""
    typer.echo(f"v{done.version} approved by {done.by} at {done.at}: @{done.alias}{before}")


def promote_staging(
    version: Annotated[
        str, typer.Argument(help="version number or alias (default: challenger)")
    ] = "challenger",
    override: OverrideOpt = None,
    params_file: ParamsOpt = None,
) -> None:
    """Put a version that passed its gates on staging."""
    from lifecycle.environments import alias_for
    from lifecycle.environments import promote_staging as do_stage

    params, paths = _setup(params_file)
    try:
        number = _resolve(params, paths, version)
        old = do_stage(params, paths, number, override=override)
    except _errors() as err:
        _fail(str(err))
        return
    was = f" (was v{old})" if old else ""
    typer.echo(f"v{number} is on @{alias_for(params, 'staging')}{was}")


def export_onnx(
    version: Annotated[
        str, typer.Argument(help="version number, alias or environment (default: production)")
    ] = "production",
    out: Annotated[Path | None, typer.Option("--out", help="also write the .onnx here")] = None,
    params_file: ParamsOpt = None,
) -> None:
    """Export a version to ONNX, prove parity with onnxruntime on the holdout, log it."""
    from lifecycle.portable import export_version

    params, paths = _setup(params_file)
    try:
        number = _resolve(params, paths, version)
        result = export_version(params, paths, number)
    except _errors() as err:
        _fail(str(err))
        return
    typer.echo(f"v{number}: onnx.status = {result.tag()}")
    if out is not None and result.onnx is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(result.onnx)
        typer.echo(f"written: {out}")


def explain(
    record: Annotated[Path, typer.Argument(help="a JSON file holding one record (an object)")],
    version: Annotated[
        str, typer.Option("--model", help="version number, alias or environment")
    ] = "production",
    top_k: Annotated[int | None, typer.Option("--top", help="features to show")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    params_file: ParamsOpt = None,
) -> None:
    """Why the model scores one record as it does, in plain words."""
    import json
    from dataclasses import asdict

    import pandas as pd

    from lifecycle.explain import explain_record
    from lifecycle.registry import load_sklearn

    params, paths = _setup(params_file)
    try:
        body = json.loads(record.read_text())
    except (OSError, json.JSONDecodeError) as err:
        _fail(f"{record}: cannot read one JSON record: {err}")
        return
    if isinstance(body, list) and len(body) == 1:
        body = body[0]
    if not isinstance(body, dict):
        _fail(f"{record}: expected one JSON object (a record), got {type(body).__name__}")
        return
    try:
        number = _resolve(params, paths, version)
        model: Any = load_sklearn(paths, params.mlflow.model_name, number)
        reference = pd.read_parquet(paths.reference)
        found = explain_record(model, body, params, reference, top_k)
        score = float(model.predict_proba(_frame(body, params))[:, 1][0])
    except _errors(KeyError, FileNotFoundError) as err:
        _fail(str(err))
        return
    if as_json:
        payload = {"version": number, "score": score, "reasons": [asdict(c) for c in found]}
        typer.echo(json.dumps(payload, indent=2, default=str))
        return
    typer.echo(f"v{number}: {params.data.target} risk {score:.0%}")
    for c in found:
        typer.echo(f"  - {c.sentence}")


def _frame(body: dict[str, Any], params: Any) -> Any:
    """One record as model inputs."""
    import pandas as pd

    from lifecycle.features import model_inputs

    return model_inputs(pd.DataFrame([body]), params.data)


def fairness(
    version: Annotated[
        str, typer.Argument(help="version number, alias or environment (default: challenger)")
    ] = "challenger",
    params_file: ParamsOpt = None,
) -> None:
    """The fairness gate on the holdout for a version: figures by group; exit 1 when it fails."""
    import pandas as pd

    from lifecycle.evaluate import score
    from lifecycle.fairness import assess
    from lifecycle.features import binary_target

    params, paths = _setup(params_file)
    try:
        number = _resolve(params, paths, version)
        holdout = pd.read_parquet(paths.holdout_set)
        report = assess(
            holdout,
            binary_target(holdout, params.data),
            score(params, paths, number, holdout),
            params,
        )
    except _errors(FileNotFoundError) as err:
        _fail(str(err))
        return
    for a in report.attributes:
        typer.echo(f"{a.attribute}:")
        for g in a.groups:
            mark = "" if g.gated else "  (too small to gate)"
            typer.echo(
                f"  {g.group:<12} rows {g.rows:>6}  selection {g.selection_rate:6.1%}  "
                f"recall {g.recall:6.1%}  precision {g.precision:6.1%}{mark}"
            )
    color = typer.colors.GREEN if report.passed else typer.colors.RED
    typer.secho(f"v{number}: {report.reason}", fg=color)
    if not report.passed:
        raise typer.Exit(1)
