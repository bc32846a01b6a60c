"""`lifecycle forget <id>`: erase one person's records, record the erasure (docs/privacy.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lifecycle.env import apply_offline_defaults
from lifecycle.paths import Paths

ParamsOpt = Annotated[
    Path | None, typer.Option("--params", help="default: LIFECYCLE_PARAMS or ./params.yaml")
]


def forget(
    person_id: Annotated[str, typer.Argument(help="the id as in data.id_column")],
    hours: Annotated[
        float | None,
        typer.Option(
            help="staff hours the request took (default: staffing.activities.erasure_request)"
        ),
    ] = None,
    params: ParamsOpt = None,
) -> None:
    """Erase one person from logs, feedback and data (a new DVC version); exit 1 if unknown."""
    # lazy: config builds pydantic models at import, pandas and the ledger are slow for `--help`
    from lifecycle.config import ConfigError, load_params
    from lifecycle.forget import DATA_STAGES
    from lifecycle.forget import forget as erase_person
    from lifecycle.orchestration.dvc_record import DvcError, record
    from lifecycle.pseudonym import PseudonymKeyError

    apply_offline_defaults()
    paths = Paths.from_env()
    try:
        p = load_params(params)
        result = erase_person(p, paths, person_id, hours=hours)
        recorded = record(paths, DATA_STAGES) if result.data_files else ()
    except (ConfigError, PseudonymKeyError, DvcError) as err:
        typer.secho(str(err), fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    if not result.known:
        typer.secho(
            f"no record of this id ({result.pseudonym}) in any store, and no earlier erasure "
            "of it in the ledger: nothing erased (check data.id_column and the id's spelling)",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(result.note())
    if result.earlier is not None and result.total == 0:
        typer.echo(f"already erased on {result.earlier}: nothing left to erase")
    for f in result.data_files:
        typer.echo(f"  rewritten: {f}")
    if recorded:
        typer.echo(f"  new data version recorded in dvc.lock: {', '.join(recorded)}")
