"""Prefect artifacts a person reads in the UI: evaluation, drift table, the run's cost."""

from __future__ import annotations

import re
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact

from lifecycle.evaluate import Decision
from lifecycle.monitor.results import DriftReport
from lifecycle.orchestration.results import Cost, FitOutcome
from lifecycle.settings import get_settings

MLFLOW_UI_ENV = "MLFLOW_UI_URL"


def _key(text: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")


def mlflow_run_link(experiment_id: str, run_id: str) -> str:
    """A link to an MLflow run in the UI (MLFLOW_UI_URL, default the `mlflow ui` address)."""
    base = get_settings().mlflow_ui_url.rstrip("/")
    return f"{base}/#/experiments/{experiment_id}/runs/{run_id}"


def _fmt(value: float | None) -> str:
    """A compact number or a dash."""
    return "-" if value is None else f"{value:.4g}"


def evaluation_markdown(
    decision: Decision, fits: tuple[FitOutcome, ...], experiment_id: str, run_id: str
) -> str:
    """Metrics of champion and challenger, the decision, its reason and the MLflow runs."""
    champion = decision.champion or {}
    verdict = "PROMOTED" if decision.promote else "kept the champion"
    lines = [
        f"# Evaluation of {decision.model_name} v{decision.challenger_version}",
        "",
        f"**Decision: {verdict}**: {decision.reason}",
        "",
        f"Challenger's MLflow run: [{run_id}]({mlflow_run_link(experiment_id, run_id)})",
        "",
        f"| metric | challenger v{decision.challenger_version} | "
        f"champion {('v' + decision.champion_version) if decision.champion_version else '-'} |",
        "| --- | --- | --- |",
    ]
    for name, value in decision.challenger.items():
        lines.append(f"| {name} | {_fmt(value)} | {_fmt(champion.get(name))} |")
    if decision.bootstrap is not None:
        b = decision.bootstrap
        lines += [
            "",
            f"Paired bootstrap of {b.metric} ({b.samples} samples): mean gain {_fmt(b.mean_gain)},"
            f" {b.confidence:.0%} interval [{_fmt(b.lower)}, {_fmt(b.upper)}]",
        ]
    if fits:
        lines += ["", "| candidate | selection score | MLflow run | worker |", "| --- " * 4 + "|"]
        for f in fits:
            link = mlflow_run_link(experiment_id, f.result.run_id)
            lines.append(
                f"| {f.result.name} | {_fmt(f.result.selection_score)} | "
                f"[{f.result.run_id[:8]}]({link}) | {f.worker} |"
            )
    return "\n".join(lines)


def publish_evaluation(
    decision: Decision, fits: tuple[FitOutcome, ...], experiment_id: str, run_id: str
) -> None:
    """The evaluation summary as a markdown artifact."""
    create_markdown_artifact(
        markdown=evaluation_markdown(decision, fits, experiment_id, run_id),
        key=_key(f"evaluation-{decision.model_name}"),
        description=f"promote={decision.promote}: {decision.reason[:200]}",
    )


def drift_rows(report: DriftReport) -> list[dict[str, Any]]:
    """One row per feature: test, statistics and verdict."""
    rows: list[dict[str, Any]] = []
    for f in report.features:
        p = f.ks_pvalue if f.kind == "numeric" else f.chi2_pvalue
        rows.append(
            {
                "feature": f.column,
                "test": f.test,
                "psi": None if f.psi is None else round(f.psi, 4),
                "p_value": None if p is None else float(f"{p:.3g}"),
                "missing": round(f.missing_current, 4),
                "unseen": None if f.unseen_share is None else round(f.unseen_share, 4),
                "verdict": "too small" if f.drifted is None else ("drift" if f.drifted else "ok"),
            }
        )
    return rows


def publish_drift(report: DriftReport) -> None:
    """The drift check as a table artifact (and the report's markdown summary)."""
    create_table_artifact(
        table=drift_rows(report),
        key=_key(f"drift-table-{report.window}"),
        description=f"verdict {report.verdict}: " + "; ".join(report.reasons[:2])[:300],
    )
    create_markdown_artifact(
        markdown=report.to_markdown(),
        key=_key(f"drift-{report.window}"),
        description=f"drift verdict: {report.verdict}",
    )


def publish_cost(name: str, cost: Cost) -> None:
    """The run's own ledger entry: compute, staff and total."""
    create_markdown_artifact(
        markdown="\n".join(
            [
                f"# Cost of this {name} run",
                "",
                "| part | USD |",
                "| --- | --- |",
                f"| compute | {cost.compute_usd:.6f} |",
                f"| staff | {cost.staff_usd:.2f} |",
                f"| **total** | **{cost.total_usd:.6f}** |",
                "",
                f"Ledger entry `{cost.ledger_key}` (`lifecycle ledger report` lists every entry).",
            ]
        ),
        key=_key(f"cost-{name}"),
        description=f"${cost.total_usd:.4f}",
    )
