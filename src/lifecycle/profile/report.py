"""The short report `lifecycle new` writes beside a use case's params: inferred and to review."""

from __future__ import annotations

from typing import Any

from lifecycle.profile.derive import sensitive_candidates
from lifecycle.profile.table import TableProfile


def review_report(name: str, source: str, profile: TableProfile, raw: dict[str, Any]) -> str:
    """Markdown: what the profile inferred, the derived defaults, and what a person must check."""
    lines = [
        f"# Use case `{name}`",
        "",
        f"Source `{source}`: {profile.rows} rows; target `{profile.target}` with positive label "
        f"`{profile.labels[1]}` ({profile.positives} rows, base rate {profile.base_rate:.3f}); "
        f"id column `{profile.id_column}`.",
        "",
        "## Columns inferred",
        "",
        "| column | role | dtype | nulls | range / categories | note |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for c in profile.columns:
        if c.kind == "numeric":
            seen = f"{c.low:g} to {c.high:g}"
        else:
            seen = ", ".join(c.categories[:8]) + (" ..." if len(c.categories) > 8 else "")
        lines.append(f"| {c.name} | {c.kind} | {c.dtype} | {c.null_rate:.1%} | {seen} | {c.note} |")
    lines += [
        "",
        "## Defaults derived from the data",
        "",
        f"- `train.threshold` {raw['train']['threshold']}: the base rate (a calibrated model "
        "labels positive the rows riskier than average)",
        f"- `campaign.capacity_share` {raw['campaign']['capacity_share']}: twice the base rate",
        f"- `split.holdout_size` {raw['split']['holdout_size']}: about 100 positives held out "
        "(20% to 40%)",
        f"- `retrain.window_rows` {raw['retrain']['window_rows']}: about 50 positives in the "
        "window's holdout",
        f"- `drift.drift_share` {raw['drift']['drift_share']}, tests "
        f"{raw['drift']['numeric_test']}/{raw['drift']['categorical_test']} (PSI, an effect size, "
        "from 20,000 rows on)",
        f"- `simulation.months` {raw['simulation']['months']}, "
        f"`validation.min_rows` {raw['validation']['min_rows']}",
        "",
        "## A person must review",
        "",
        "- campaign economics (`campaign.contact_cost`, `retained_value`, `acceptance_rate`) are "
        "the default project's: the promotion gate's profit means nothing until they are this "
        "use case's",
        "- sensitive attributes: the fairness gate is OFF; name them in `fairness.sensitive` and "
        "set `fairness.enabled: true`"
        + (
            f" (names that look sensitive: {', '.join(sensitive_candidates(profile))})"
            if sensitive_candidates(profile)
            else ""
        ),
        "- directional expectations: which features should raise or lower the score "
        "(`behaviour.directional`, empty until a person writes them) and the segments whose "
        "ROC AUC must hold (`behaviour.slices`)",
        "- integer-coded categories and skipped columns in the table above",
        "- the validation ranges (seen range widened by half its width) and null shares",
    ]
    return "\n".join(lines) + "\n"
