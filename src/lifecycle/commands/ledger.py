"""`lifecycle ledger ...`: report, log hours, estimate, budget, re-price, dashboard, value."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import StrEnum
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from lifecycle.ledger import estimate as est
from lifecycle.ledger import report as rep
from lifecycle.ledger.allocate import allocate_platform as share_platform
from lifecycle.ledger.forecast import Forecast, forecast
from lifecycle.ledger.pricing import LedgerError
from lifecycle.ledger.queries import reconcile_crashed, reprice_all
from lifecycle.ledger.record import log_hours
from lifecycle.ledger.session import get_engine
from lifecycle.settings import get_settings
from lifecycle.system import free_port

if TYPE_CHECKING:
    from lifecycle.config import Params

ledger_app = typer.Typer(
    name="ledger",
    help="The cost ledger: what every run, serving hour and person-hour cost.",
    no_args_is_help=True,
)

F = TypeVar("F", bound=Callable[..., Any])

UrlOpt = Annotated[
    str | None,
    typer.Option("--url", envvar="LIFECYCLE_LEDGER_URL", help="SQLAlchemy URL of the ledger."),
]
ParamsOpt = Annotated[
    Path | None, typer.Option("--params", help="params.yaml to read (default LIFECYCLE_PARAMS).")
]


class Format(StrEnum):
    """How a command prints its result."""

    table = "table"
    csv = "csv"
    json = "json"


def _clear_errors(func: F) -> F:
    """Turn bad input into one readable line on stderr and exit code 2, not a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # lazy: lifecycle.config builds its pydantic models at import, too slow for `--help`
        from lifecycle.config import ConfigError

        try:
            return func(*args, **kwargs)
        except (LedgerError, ConfigError) as err:
            typer.echo(f"error: {err}", err=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _params(path: Path | None) -> Params:
    """Load params from a path or the default place."""
    from lifecycle.config import load_params  # lazy: see _clear_errors

    return load_params(path)


def _day(value: str | None, field: str) -> date | None:
    """Parse YYYY-MM-DD with an error that names the option."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise LedgerError(f"{field} = {value!r}: must be a date YYYY-MM-DD") from None


def _table_or_json(fmt: Format, command: str) -> None:
    """Refuse CSV where a command prints only a table or JSON (not a silent table)."""
    if fmt is Format.csv:
        raise LedgerError(f"--format = 'csv': {command} prints 'table' or 'json'")


def _emit(text: str, output: Path | None) -> None:
    """Write to a file if asked, else to stdout."""
    if output:
        output.write_text(text)
        typer.echo(f"wrote {output}", err=True)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


@ledger_app.command()
@_clear_errors
def report(
    since: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD.")] = None,
    until: Annotated[str | None, typer.Option(help="Last day, YYYY-MM-DD.")] = None,
    flow: Annotated[str | None, typer.Option(help="Only this flow / stage name.")] = None,
    phase: Annotated[str | None, typer.Option(help="Only this project phase.")] = None,
    model_version: Annotated[str | None, typer.Option(help="Only this model version.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind of entry.")] = None,
    use_case: Annotated[
        str | None,
        typer.Option("--use-case", help="Only this use case (default: all; the root's: default)."),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=0, help="Rows in the table (exports are complete).")
    ] = 50,
    fmt: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.table,
    output: Annotated[Path | None, typer.Option(help="Write the export to this file.")] = None,
    url: UrlOpt = None,
    allocate_platform: Annotated[
        bool,
        typer.Option(
            "--allocate-platform",
            help="Share the platform's cost (servers, worker, UI) among the runs it served, "
            "pro rata by wall time.",
        ),
    ] = False,
) -> None:
    """Entries and totals: by phase, by flow, per model version, per 1,000 predictions."""
    reconcile_crashed(url)
    filters = rep.Filters(
        since=_day(since, "--since"),
        until=_day(until, "--until"),
        name=flow,
        phase=phase,
        model_version=model_version,
        kind=kind,
        use_case=use_case or get_settings().use_case,
    )
    summary = rep.summarize(filters, url)
    if allocate_platform:
        summary.platform_allocation = share_platform(filters, url).to_dict()
    if fmt is Format.table:
        rep.render(rep.entry_rows(filters, url, limit), summary)
    elif fmt is Format.csv:
        _emit(rep.to_csv(rep.entry_rows(filters, url)), output)
    else:
        _emit(rep.to_json(rep.entry_rows(filters, url), summary), output)


@ledger_app.command("log-hours")
@_clear_errors
def log_hours_cmd(
    role: Annotated[str, typer.Option(help="A role of params staffing.roles.")],
    hours: Annotated[float, typer.Option(help="Hours worked (>= 0).")],
    phase: Annotated[str, typer.Option(help="exploration, development, deployment, maintenance.")],
    activity: Annotated[str, typer.Option(help="What the work was.")] = "work",
    day: Annotated[str | None, typer.Option(help="Day of the work, YYYY-MM-DD.")] = None,
    note: Annotated[str | None, typer.Option(help="Free text.")] = None,
    url: UrlOpt = None,
    params_path: ParamsOpt = None,
) -> None:
    """Record human work that no run sees (exploration, labelling, meetings)."""
    when = _day(day, "--day")
    moment = datetime(when.year, when.month, when.day, 12, tzinfo=UTC) if when else None
    entry = log_hours(
        role,
        hours,
        phase=phase,
        activity=activity,
        day=moment,
        note=note,
        params=_params(params_path),
        url=url,
    )
    typer.echo(f"logged {hours:g} h of {role} ({activity}, {phase}): ${entry.total_usd:,.2f}")


@ledger_app.command()
@_clear_errors
def estimate(
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
    url: UrlOpt = None,
    params_path: ParamsOpt = None,
) -> None:
    """A one-year estimate by phase from params, beside the ledger's actuals."""
    _table_or_json(fmt, "estimate")
    actuals = {p: t.total_usd for p, t in rep.summarize(url=url).by_phase.items()}
    rows = est.estimate(_params(params_path), actuals)
    if fmt is Format.json:
        _emit(json.dumps([r.to_dict() for r in rows], indent=2), None)
    else:
        est.render(rows)


@ledger_app.command()
@_clear_errors
def budget(
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
    fail_on_alert: Annotated[bool, typer.Option(help="Exit 1 when an alert fires.")] = False,
    url: UrlOpt = None,
    params_path: ParamsOpt = None,
) -> None:
    """This month's budget against actual, the forecast's history, its range, and alerts."""
    _table_or_json(fmt, "budget")
    fc = forecast(_params(params_path), url)
    if fmt is Format.json:
        _emit(json.dumps(fc.to_dict(), indent=2), None)
    else:
        _render_budget(fc)
    if fail_on_alert and fc.alerts:
        raise typer.Exit(1)


def _usd_range(low: float, high: float) -> str:
    """A range as '$1.00-$2.00'."""
    return f"${low:,.2f}-${high:,.2f}"


def _render_budget(fc: Forecast) -> None:
    """The budget table, the forecast's basis, its rates (machines, then people) and total."""
    from rich.table import Table

    console = rep.console()
    table = Table(title=f"Budget this month (as of {fc.as_of} UTC)")
    for col in ("phase", "budget/month", "spent", "% used", "burn/day", "projected",
                "forecast/month"):  # fmt: skip
        table.add_column(col, justify="left" if col == "phase" else "right")
    for p in fc.phases:
        used = "-" if not p.budget_usd else f"{p.spent_usd / p.budget_usd:.1%}"
        table.add_row(
            p.phase + (" !" if p.alert else ""),
            "-" if p.budget_usd is None else f"{p.budget_usd:,.2f}",
            f"{p.spent_usd:,.2f}",
            used,
            f"{p.burn_usd_per_day:,.2f}",
            f"{p.projected_month_usd:,.2f}",
            "-" if p.forecast_month_usd is None else f"{p.forecast_month_usd:,.2f}",
        )
    console.print(table)
    console.print(f"Forecast basis: {fc.basis}")
    for title, rates in (("Machine runs (compute per run)", fc.rates),
                         ("Human work, apart (per activity)", fc.staffing)):  # fmt: skip
        if not rates:
            continue
        grid = Table(title=title)
        for col in ("kind", "name", "phase", "runs seen", "runs/month", "basis", "$/run",
                    "$/month", "90% range"):  # fmt: skip
            grid.add_column(col)
        for r in rates:
            grid.add_row(
                r.kind, r.name, r.phase, str(r.runs), f"{r.runs_per_month:.1f}", r.basis,
                f"{r.usd_per_run:,.4f}", f"{r.usd_per_month:,.2f}",
                _usd_range(r.low_usd_per_month, r.high_usd_per_month),
            )  # fmt: skip
        console.print(grid)
    if fc.refused or fc.twelve_month_usd is None:
        console.print(f"[yellow]{fc.refused}[/yellow]")
    else:
        low, high = fc.twelve_month_low_usd or 0.0, fc.twelve_month_high_usd or 0.0
        console.print(
            f"12-month forecast: ${fc.twelve_month_usd:,.2f} (90% range {_usd_range(low, high)})"
        )
    for alert in fc.alerts:
        console.print(f"[red]ALERT[/red] {alert}")


@ledger_app.command()
@_clear_errors
def reprice(
    params_path: ParamsOpt = None,
    url: UrlOpt = None,
) -> None:
    """Re-price every entry with the current price sheet and rates; usage stays as measured."""
    before, after = reprice_all(_params(params_path), url)
    typer.echo(f"re-priced: total ${before:,.4f} -> ${after:,.4f}")


@ledger_app.command()
@_clear_errors
def reconcile(url: UrlOpt = None) -> None:
    """Mark entries whose process died mid-run as crashed."""
    typer.echo(f"marked {reconcile_crashed(url)} entries as crashed")


@ledger_app.command()
@_clear_errors
def dashboard(
    host: Annotated[str, typer.Option(help="Interface to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int | None, typer.Option(help="Port (default LIFECYCLE_PORT; 0 picks a free one).")
    ] = None,
    url: UrlOpt = None,
    params_path: ParamsOpt = None,
) -> None:
    """Serve the read-only cost dashboard (the service's /ledger routes) until interrupted."""
    import uvicorn

    # lazy: FastAPI would add most of a second to `lifecycle --help`
    from lifecycle.serve.routers.ledger import dashboard_app

    params = _params(params_path)
    get_engine(url)  # fail at start, not on the first request, if the ledger is unreachable
    chosen = get_settings().port if port is None else port
    bound = chosen or free_port()
    typer.echo(f"ledger dashboard on http://{host}:{bound}/ledger (Ctrl+C to stop)")
    uvicorn.run(dashboard_app(params, url), host=host, port=bound, log_level="warning")


@ledger_app.command("value")
@_clear_errors
def value_cmd(
    model_version: Annotated[str | None, typer.Option(help="Only this model version.")] = None,
    from_log: Annotated[
        bool, typer.Option("--from-log", help="First record the prediction log's days as periods.")
    ] = False,
    fmt: Annotated[Format, typer.Option("--format", help="table or json.")] = Format.table,
    params_file: ParamsOpt = None,
    url: UrlOpt = None,
) -> None:
    """What each model version earns against what it costs: value, cost, net, ROI; verdicts."""
    from lifecycle.value.net import value_report
    from lifecycle.value.render import render_report
    from lifecycle.value.store import entries

    _table_or_json(fmt, "ledger value")
    params = _params(params_file)
    if from_log:
        from lifecycle.paths import Paths
        from lifecycle.value.log import record_log_periods

        for line in record_log_periods(params, Paths.from_env(), url):
            typer.echo(line, err=True)
    values = list(entries(url, model_name=params.mlflow.model_name, version=model_version))
    report = value_report(values, url, params.prices.currency)
    if model_version is not None:
        report = report.only(model_version)
    if fmt is Format.json:
        _emit(json.dumps(report.to_dict(), indent=2), None)
    else:
        _emit(render_report(report), None)
