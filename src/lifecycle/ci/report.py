"""The pull-request report (the way CML does it): DVC's params, metrics and plots diffs against
the base branch, as one markdown comment that `gh pr comment --body-file` posts.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

MARKER = "<!-- lifecycle:pr-report -->"


class DvcCommandError(RuntimeError):
    """A dvc command the report needs failed (its message carries dvc's own error)."""


@dataclass(frozen=True)
class PlotChange:
    """One plot of `dvc plots diff`: which revisions have data for it, and how many points."""

    name: str
    points: dict[str, int]
    changed: bool = False


def dvc(root: Path, *args: str) -> str:
    """Run dvc in the project; its stdout, or DvcCommandError with its stderr."""
    done = subprocess.run(
        ["dvc", *args], cwd=root, capture_output=True, text=True, check=False, timeout=600
    )
    if done.returncode != 0:
        raise DvcCommandError(f"dvc {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def plot_changes(plots_json: str) -> list[PlotChange]:
    """Per plot, the number of points each revision has, from `dvc plots diff --json`."""
    raw = json.loads(plots_json) if plots_json.strip() else {}
    plots = raw.get("data", {}) if "data" in raw else raw  # DVC 3 nests plots under "data"
    found: list[PlotChange] = []
    for name, renders in sorted(plots.items()):
        if name == "errors" or not isinstance(renders, list):
            continue
        points: dict[str, int] = {}
        values: dict[str, list[str]] = {}
        for render in renders:
            for datum in render.get("content", {}).get("data", {}).get("values", []):
                rev = str(datum.get("rev", "workspace"))
                points[rev] = points.get(rev, 0) + 1
                rest = {k: v for k, v in datum.items() if k != "rev"}
                values.setdefault(rev, []).append(json.dumps(rest, sort_keys=True))
        changed = len({tuple(sorted(v)) for v in values.values()}) > 1
        found.append(PlotChange(name, points, changed))
    return found


def compose(
    base: str,
    params_md: str,
    metrics_md: str,
    plots: Sequence[PlotChange],
    title: str = "Model report",
    run_url: str | None = None,
    note: str | None = None,
) -> str:
    """The comment's markdown: a marker to find it again, then params, metrics and plots."""
    lines = [MARKER, f"## {title}", ""]
    if note:
        lines += [note, ""]
    lines += [f"Compared with `{base}` (workspace = this pull request).", ""]
    lines += ["### Metrics", "", metrics_md.strip() or "No metric changed.", ""]
    lines += ["### Params", "", params_md.strip() or "No param changed.", ""]
    lines += ["### Plots", ""]
    if plots:
        revs = sorted({rev for p in plots for rev in p.points})
        lines.append("| plot | changed | " + " | ".join(f"points ({r})" for r in revs) + " |")
        lines.append("|---|---|" + "---|" * len(revs))
        for p in plots:
            counts = " | ".join(str(p.points.get(r, 0)) for r in revs)
            lines.append(f"| {p.name} | {'yes' if p.changed else 'no'} | {counts} |")
    else:
        lines.append("No plot found.")
    if run_url:
        lines += [
            "",
            "Rendered plots (`dvc plots diff` HTML): the `plots-diff` artifact of "
            f"[this run]({run_url}).",
        ]
    return "\n".join(lines) + "\n"


def build(
    root: Path,
    base: str,
    plots_dir: Path | None = None,
    title: str = "Model report",
    run_url: str | None = None,
    note: str | None = None,
) -> str:
    """Run DVC's diffs against base in root and compose the comment (plots HTML to plots_dir)."""
    params_md = dvc(root, "params", "diff", base, "--md")
    metrics_md = dvc(root, "metrics", "diff", base, "--md")
    plots = plot_changes(dvc(root, "plots", "diff", base, "--json"))
    if plots_dir is not None:
        dvc(root, "plots", "diff", base, "--out", str(plots_dir))
    return compose(base, params_md, metrics_md, plots, title, run_url, note)
