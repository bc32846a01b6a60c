"""`lifecycle ci`: the commands the GitHub workflows call, so no workflow holds an inline script."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lifecycle.ci.report import DvcCommandError, build
from lifecycle.ci.smoke import probe

ci_app = typer.Typer(
    help="Commands of the CI workflows: sample the data, the pull-request report, smoke tests.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _fail(message: str) -> None:
    """A clear error, no traceback."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _run_url() -> str | None:
    """The URL of this GitHub Actions run, when run inside one."""
    from lifecycle.settings import get_settings  # lazy: pydantic-settings; mounted at --help

    return get_settings().run_url


@ci_app.command("sample")
def sample(
    rows: Annotated[int, typer.Option(help="rows of the source to keep")] = 2000,
    out: Annotated[Path, typer.Option(help="where the sample goes")] = Path(
        "data/sample/source.parquet"
    ),
    params: Annotated[Path, typer.Option(help="the params file to point at it")] = Path(
        "params.yaml"
    ),
    seed: Annotated[int | None, typer.Option(help="default: simulation.seed")] = None,
) -> None:
    """Point params.yaml's data.source at a seeded sample, so `dvc repro` in CI stays quick."""
    from lifecycle.ci.sample import SampleError, sample_source
    from lifecycle.config import ConfigError

    try:
        res = sample_source(params, out, rows, seed)
    except (SampleError, ConfigError) as err:
        _fail(str(err))
        return
    typer.echo(
        f"sampled {res.rows} of {res.source_rows} rows of {res.original_source} -> {res.path}; "
        f"{params}: data.source now points at it"
    )


@ci_app.command("pr-comment")
def pr_comment(
    base: Annotated[str, typer.Option(help="git revision to compare with")] = "main",
    out: Annotated[Path, typer.Option(help="markdown file for `gh pr comment --body-file`")] = (
        Path("pr-comment.md")
    ),
    plots_dir: Annotated[
        Path | None, typer.Option(help="also render `dvc plots diff` HTML here")
    ] = None,
    title: Annotated[str, typer.Option(help="heading of the comment")] = "Model report",
    note: Annotated[str | None, typer.Option(help="a line under the heading")] = None,
) -> None:
    """Write DVC's params, metrics and plots diffs against base as one pull-request comment."""
    try:
        body = build(Path.cwd(), base, plots_dir, title, _run_url(), note)
    except DvcCommandError as err:
        _fail(str(err))
        return
    out.write_text(body)
    typer.echo(f"pull-request report -> {out} ({len(body.splitlines())} lines)")


@ci_app.command("smoke")
def smoke(
    url: Annotated[str, typer.Argument(help="e.g. https://churn.example.internal/ready")],
    timeout: Annotated[float, typer.Option(help="seconds to keep trying")] = 120.0,
    interval: Annotated[float, typer.Option(help="seconds between tries")] = 2.0,
) -> None:
    """Fail the deploy unless the endpoint answers 200 before the timeout."""
    res = probe(url, timeout, interval)
    if not res.ok:
        _fail(
            f"{url}: no 200 after {res.tries} tries in {res.seconds:.0f} s "
            f"(last: {res.status}, {res.detail})"
        )
    typer.echo(f"{url}: 200 after {res.tries} tries in {res.seconds:.1f} s")
