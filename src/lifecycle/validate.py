"""A Great Expectations suite built from params: the gate before training, with quarantine."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lifecycle.columns import cast_columns
from lifecycle.config import DataParams, Params, ValidationParams
from lifecycle.config.contract import column_rules
from lifecycle.paths import Paths
from lifecycle.pseudonym import withhold

if TYPE_CHECKING:
    import pandas as pd

NUMERIC_TYPES = [
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "Int8", "Int16", "Int32", "Int64", "float16", "float32", "float64", "Float32", "Float64",
    "bool", "boolean",
]  # fmt: skip
# the counts of a result that may be kept for a personal column (its values may not)
COUNT_KEYS = frozenset(
    {"unexpected_count", "unexpected_percent", "unexpected_percent_nonmissing",
     "unexpected_percent_total"}
)  # fmt: skip
TEXT_TYPES = ["object", "str", "string", "category", "StringDtype", "CategoricalDtype"]


@dataclass(frozen=True)
class Failure:
    """One broken expectation: which column, which rule, how many rows, a few examples."""

    column: str
    rule: str
    rows: int | None
    examples: list[Any] = field(default_factory=list)
    detail: str = ""

    def describe(self) -> str:
        """A line a person can act on."""
        rows = f"{self.rows} row(s)" if self.rows is not None else "the table"
        ex = f"; examples: {self.examples[:5]}" if self.examples else ""
        extra = f" ({self.detail})" if self.detail else ""
        return f"column {self.column!r}: {self.rule} failed for {rows}{extra}{ex}"


@dataclass(frozen=True)
class ValidationReport:
    """The result of validating one batch."""

    batch: str
    success: bool
    rows: int
    expectations: int
    failures: list[Failure]
    checked_at: str

    def to_json(self) -> dict[str, Any]:
        """Plain data for reports/validation.json and the quarantine."""
        return asdict(self)


class ValidationFailedError(RuntimeError):
    """A batch broke the suite: the message lists every failed expectation."""

    def __init__(self, report: ValidationReport, quarantined: Path | None) -> None:
        """Build the message from the report."""
        self.report = report
        self.quarantined = quarantined
        lines = [
            f"batch {report.batch!r} failed validation: "
            f"{len(report.failures)} of {report.expectations} expectations broken"
        ]
        lines += [f"  - {f.describe()}" for f in report.failures]
        if quarantined is not None:
            lines.append(f"the batch and its report are kept in {quarantined}")
        super().__init__("\n".join(lines))


class UnreadableBatchError(ValidationFailedError):
    """A batch that is not a table at all (empty file, truncated, wrong format): one line."""

    def __init__(self, report: ValidationReport, quarantined: Path, why: str) -> None:
        """A single line: which file, why it cannot be read, where it is kept."""
        super().__init__(report, quarantined)
        self.args = (f"batch {report.batch!r} is not a readable Parquet table ({why}); "
                     f"kept in quarantine at {quarantined}",)  # fmt: skip


def _unreadable(batch_file: Path, err: Exception, paths: Paths) -> UnreadableBatchError:
    """Quarantine a batch that cannot be read and say why in one line."""
    size = batch_file.stat().st_size
    why = "0 bytes" if size == 0 else f"{size} bytes: {str(err).splitlines()[0][:160]}"
    checked = datetime.now(UTC).isoformat(timespec="seconds")
    failure = Failure("<file>", "readable Parquet table", None, detail=why)
    report = ValidationReport(batch_file.stem, False, 0, 1, [failure], checked)
    return UnreadableBatchError(report, quarantine(batch_file, report, paths), why)


def build_expectations(data: DataParams, rules: ValidationParams) -> list[Any]:
    """The suite's expectations, from params alone (no column is named in code)."""
    import great_expectations.expectations as gxe

    exps: list[Any] = [gxe.ExpectTableRowCountToBeBetween(min_value=rules.min_rows)]
    for col in (data.id_column, data.target, *data.features):
        exps.append(gxe.ExpectColumnToExist(column=col))
    for col in data.numeric:
        exps.append(gxe.ExpectColumnValuesToBeInTypeList(column=col, type_list=NUMERIC_TYPES))
    for col in data.categorical:
        exps.append(gxe.ExpectColumnValuesToBeInTypeList(column=col, type_list=TEXT_TYPES))
    for col in (data.id_column, data.target, *data.features):
        mostly = 1.0 - rules.max_null_fraction.get(col, 0.0)
        exps.append(gxe.ExpectColumnValuesToNotBeNull(column=col, mostly=mostly))
    contract = column_rules(data, rules).values()  # the API's schema enforces the same rules
    for r in contract:
        if r.low is not None and r.high is not None:
            exps.append(gxe.ExpectColumnValuesToBeBetween(column=r.column, min_value=r.low,
                                                          max_value=r.high))  # fmt: skip
    for r in contract:
        if r.categories is not None:
            exps.append(gxe.ExpectColumnValuesToBeInSet(column=r.column,
                                                        value_set=list(r.categories)))  # fmt: skip
    exps.append(gxe.ExpectColumnValuesToBeUnique(column=data.id_column))
    exps.append(
        gxe.ExpectColumnValuesToBeInSet(column=data.target, value_set=list(rules.target_labels))
    )
    return exps


def validate_frame(
    df: pd.DataFrame, params: Params, batch: str, docs_dir: Path | None = None
) -> ValidationReport:
    """Run the suite on a frame; optionally build GX data docs into docs_dir."""
    import os

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    df = _object_strings(cast_columns(df, params.data))
    with tempfile.TemporaryDirectory(prefix="gx-") as root:
        ctx = gx.get_context(mode="file", project_root_dir=root)
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)  # no tqdm in stage logs
        asset = ctx.data_sources.add_pandas("lifecycle").add_dataframe_asset(batch)
        whole = asset.add_batch_definition_whole_dataframe("whole")
        expectations = build_expectations(params.data, params.validation)  # one store write,
        suite = ctx.suites.add(  # not one per expectation (each rewrote the whole suite)
            gx.ExpectationSuite(name=f"{params.project.name}-batch", expectations=expectations)
        )
        definition = ctx.validation_definitions.add(
            gx.ValidationDefinition(name=f"validate-{batch}", data=whole, suite=suite)
        )
        checkpoint = ctx.checkpoints.add(
            gx.Checkpoint(name="gate", validation_definitions=[definition], actions=[])
        )
        result = checkpoint.run(batch_parameters={"dataframe": df}, expectation_parameters=None)
        run = next(iter(result.run_results.values()))
        failures = _without_echoes([_failure(r) for r in run.results if not r.success])
        failures = withhold(failures, (params.data.id_column, *params.privacy.personal))
        report = ValidationReport(
            batch=batch,
            success=bool(run.success),
            rows=len(df),
            expectations=len(run.results),
            failures=failures,
            checked_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        if docs_dir is not None:
            withhold_stored_examples(Path(root), (params.data.id_column, *params.privacy.personal))
            ctx.build_data_docs()
            site = Path(root) / "gx" / "uncommitted" / "data_docs" / "local_site"
            if site.is_dir():
                shutil.copytree(site, docs_dir, dirs_exist_ok=True)
    return report


def withhold_stored_examples(gx_root: Path, columns: tuple[str, ...]) -> int:
    """Drop the offending values of personal columns from GX's stored results; how many results.

    Data docs render the stored validation results, examples included (a duplicated id, say):
    the counts and verdicts stay, the values go, as in the JSON report (`withhold`)."""
    scrubbed = 0
    for stored in gx_root.rglob("validations/**/*.json"):
        doc = json.loads(stored.read_text())
        for res in doc.get("results", []):
            if res.get("expectation_config", {}).get("kwargs", {}).get("column") not in columns:
                continue
            found = res.get("result") or {}
            kept = {k: v for k, v in found.items() if k in COUNT_KEYS or "unexpected" not in k}
            scrubbed += kept != found
            res["result"] = kept
        stored.write_text(json.dumps(doc))
    return scrubbed


def _without_echoes(failures: list[Failure]) -> list[Failure]:
    """A missing column or a wrong dtype breaks every rule on that column: report the cause only."""
    root: dict[str, Failure] = {}
    for prefix in ("column must exist", "dtype"):
        for f in failures:
            if f.rule.startswith(prefix) and f.column not in root:
                root[f.column] = f
    return [f for f in failures if f.column not in root or root[f.column] is f]


def _object_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Pandas 3 text columns as object dtype: GX's type check does not know the `str` dtype."""
    import pandas as pd

    text = [c for c in df.columns if pd.api.types.is_string_dtype(df[c].dtype)]
    return df.astype(dict.fromkeys(text, object)) if text else df


def _failure(r: Any) -> Failure:
    """Turn one GX result into a Failure a person can read."""
    cfg = r.expectation_config
    column = str(cfg.kwargs.get("column", "<table>"))
    rule = _rule_text(cfg.type, cfg.kwargs)
    res = r.result or {}
    detail = ""
    if r.exception_info and r.exception_info.get("raised_exception"):
        detail = str(r.exception_info.get("exception_message", "")).splitlines()[0][:200]
    elif res.get("observed_value") is not None:
        detail = f"observed {res['observed_value']!r}"
    examples = [_plain(v) for v in (res.get("partial_unexpected_list") or [])][:5]
    return Failure(column, rule, res.get("unexpected_count"), examples, detail)


def _rule_text(kind: str, kw: dict[str, Any]) -> str:
    """The expectation as a short rule."""
    texts = {
        "expect_table_row_count_to_be_between": f"at least {kw.get('min_value')} rows",
        "expect_column_to_exist": "column must exist",
        "expect_column_values_to_be_in_type_list": f"dtype in {kw.get('type_list', [])[:3]}...",
        "expect_column_values_to_not_be_null": f"not null (mostly {kw.get('mostly', 1.0)})",
        "expect_column_values_to_be_between": (
            f"between {kw.get('min_value')} and {kw.get('max_value')}"
        ),
        "expect_column_values_to_be_in_set": f"in {kw.get('value_set')}",
        "expect_column_values_to_be_unique": "unique",
    }
    return texts.get(kind, kind)


def _plain(v: Any) -> Any:
    """JSON-safe example values."""
    if isinstance(v, float) and v != v:
        return None
    if hasattr(v, "item"):
        return v.item()
    return v


def quarantine(batch_file: Path, report: ValidationReport, paths: Paths) -> Path:
    """Keep a failed batch as it came, with its JSON result; an older quarantine is kept too."""
    target = paths.quarantine / report.batch
    if target.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target.rename(target.with_name(f"{report.batch}.{stamp}"))
    target.mkdir(parents=True)
    shutil.copy2(batch_file, target / batch_file.name)
    (target / "result.json").write_text(json.dumps(report.to_json(), indent=2, default=str))
    return target


def validate_file(batch_file: Path, params: Params, paths: Paths) -> ValidationReport:
    """Validate one batch file; on failure quarantine it (with data docs) and raise."""
    import pandas as pd

    if not batch_file.is_file():
        raise FileNotFoundError(f"batch file {batch_file} does not exist")
    try:
        df = pd.read_parquet(batch_file)
    except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
        raise _unreadable(batch_file, err, paths) from None
    batch = batch_file.stem
    report = validate_frame(df, params, batch)
    if not report.success:
        where = quarantine(batch_file, report, paths)
        validate_frame(df, params, batch, docs_dir=where / "data_docs")
        raise ValidationFailedError(report, where)
    return report


def validate_reference(params: Params, paths: Paths) -> ValidationReport:
    """The DVC/Prefect stage: gate the raw reference period into data/validated/."""
    report_path = paths.validation_report
    report_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        report = validate_file(paths.raw_reference, params, paths)
    except ValidationFailedError as err:
        report_path.write_text(json.dumps(err.report.to_json(), indent=2, default=str))
        paths.validated.unlink(missing_ok=True)
        raise
    paths.validated.parent.mkdir(parents=True, exist_ok=True)
    tmp = paths.validated.with_suffix(".tmp")
    shutil.copyfile(paths.raw_reference, tmp)
    tmp.replace(paths.validated)
    report_path.write_text(json.dumps(report.to_json(), indent=2, default=str))
    return report
