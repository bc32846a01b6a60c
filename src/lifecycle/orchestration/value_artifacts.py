"""The monitor run's value estimate: recorded in the value ledger and shown as an artifact."""

from __future__ import annotations

from pathlib import Path

from prefect.artifacts import create_markdown_artifact

from lifecycle.config import Params
from lifecycle.orchestration.artifacts import _key
from lifecycle.orchestration.tasks import io_task
from lifecycle.paths import Paths
from lifecycle.value.store import ValueEntry
from lifecycle.value.window import estimate_window


def value_markdown(window: str, found: list[ValueEntry], note: str, currency: str) -> str:
    """The period's estimated value per version, with its interval, or why there is none."""
    lines = [f"# Estimated campaign value of {window}", "", note, ""]
    if found:
        head = ("| version | rows | contacted | estimated value | interval | est. ROC AUC "
                "| est. precision | calibration |")  # fmt: skip
        lines += [head, "|---|---|---|---|---|---|---|---|"]
    for e in found:
        if e.est_value_usd is None:
            lines.append(f"| v{e.model_version} | {e.rows} | {e.contacted} | - | - | - | - | "
                         f"{e.note} |")  # fmt: skip
            continue
        auc = "-" if e.est_roc_auc is None else f"{e.est_roc_auc:.3f}"
        lines.append(
            f"| v{e.model_version} | {e.rows} | {e.contacted} | {e.est_value_usd:,.0f} {currency} "
            f"| [{e.est_value_low:,.0f}, {e.est_value_high:,.0f}] | {auc} | "
            f"{e.est_precision:.3f} | {e.calibration} |"
        )
    return "\n".join(lines)


@io_task("estimate-value")
def value_task(
    params: Params, paths: Paths, window: Path | None, links: dict[str, str | None]
) -> list[ValueEntry]:
    """Estimate the window's value before its outcomes, record it, publish it as an artifact."""
    if window is None:
        return []
    found, note = estimate_window(params, paths, window, links)
    create_markdown_artifact(
        markdown=value_markdown(window.stem, found, note, params.prices.currency),
        key=_key(f"value-{window.stem}"),
        description=note,
    )
    return found
