"""The drift report as one self-contained HTML page: a table, an inline SVG per drifting feature."""

from __future__ import annotations

import html
import io
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lifecycle.monitor.results import DriftReport, FeatureDrift, short_number

if TYPE_CHECKING:
    from matplotlib.axes import Axes

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1100px}
table{border-collapse:collapse;font-size:.9rem}td,th{border:1px solid #ccc;padding:.25rem .5rem}
th{background:#f3f3f3}.drift{background:#fde2e2}.small{background:#fff4d6}
.verdict{font-size:1.3rem;font-weight:600}.plot{margin:1rem 0}
"""
MAX_CATEGORIES = 20


def render_html(
    report: DriftReport,
    reference: pd.DataFrame,
    current: pd.DataFrame,
    reference_scores: Any | None = None,
    current_scores: Any | None = None,
) -> str:
    """The whole page: verdict, reasons, the per-feature table, and the plots (no external URL)."""
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Drift report: {e(report.window)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Drift report: {e(report.window)}</h1>",
        f"<p class='verdict'>Verdict: {e(report.verdict)}</p>",
        f"<p>{report.current_rows} rows in the window, {report.reference_rows} in the reference; "
        f"created {e(report.created_at)}</p>",
        "<ul>",
        *[f"<li>{e(r)}</li>" for r in report.reasons],
        "</ul>",
        _table(report),
    ]
    for f in report.features:
        if f.drifted:
            svg = _feature_svg(f, reference, current)
            parts.append(f"<h2>{e(f.column)}</h2><div class='plot'>{svg}</div>")
    if (
        report.prediction is not None
        and reference_scores is not None
        and current_scores is not None
    ):
        parts.append("<h2>Prediction scores</h2>")
        parts.append(
            f"<div class='plot'>{_numeric_svg('score', reference_scores, current_scores)}</div>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def _table(report: DriftReport) -> str:
    """One row per feature with every statistic and its verdict."""
    e = html.escape
    head = (
        "<table><tr><th>feature</th><th>kind</th><th>test</th><th>PSI</th><th>KS</th>"
        "<th>KS p</th><th>chi2 p</th><th>missing ref</th><th>missing now</th>"
        "<th>unseen</th><th>verdict</th></tr>"
    )
    rows = [head]
    for f in report.features:
        cls = "drift" if f.drifted else ("small" if f.drifted is None else "")
        verdict = "too small" if f.drifted is None else ("drift" if f.drifted else "ok")
        cells = [
            f.column,
            f.kind,
            f.test,
            short_number(f.psi),
            short_number(f.ks_statistic),
            short_number(f.ks_pvalue),
            short_number(f.chi2_pvalue),
            f"{f.missing_reference:.3f}",
            f"{f.missing_current:.3f}",
            short_number(f.unseen_share),
            verdict,
        ]
        rows.append(
            f"<tr class='{cls}'>" + "".join(f"<td>{e(str(c))}</td>" for c in cells) + "</tr>"
        )
    rows.append("</table>")
    return "\n".join(rows)


def _feature_svg(f: FeatureDrift, reference: pd.DataFrame, current: pd.DataFrame) -> str:
    """The plot that shows how one feature moved."""
    if f.kind == "numeric":
        return _numeric_svg(f.column, reference[f.column], current[f.column])
    return _categorical_svg(f.column, reference[f.column], current[f.column])


def _numeric_svg(name: str, reference: Any, current: Any) -> str:
    """Overlaid density histograms on common bins."""
    ref = np.asarray(pd.to_numeric(pd.Series(np.asarray(reference)), errors="coerce"), dtype=float)
    cur = np.asarray(pd.to_numeric(pd.Series(np.asarray(current)), errors="coerce"), dtype=float)
    ref, cur = ref[np.isfinite(ref)], cur[np.isfinite(cur)]
    both = np.concatenate([ref, cur])
    edges = np.histogram_bin_edges(both, bins=30) if both.size else np.linspace(0, 1, 31)
    bins = [float(b) for b in edges]
    fig, ax = _figure()
    ax.hist(ref, bins=bins, density=True, alpha=0.5, label="reference", color="#4c72b0")
    ax.hist(cur, bins=bins, density=True, alpha=0.5, label="window", color="#dd8452")
    ax.set_xlabel(name)
    ax.set_ylabel("density")
    ax.legend()
    return _svg(fig)


def _categorical_svg(name: str, reference: pd.Series, current: pd.Series) -> str:
    """Side-by-side bars of each category's share (the most frequent ones)."""
    ref = reference.dropna().astype(str).value_counts(normalize=True)
    cur = current.dropna().astype(str).value_counts(normalize=True)
    keys = list(dict.fromkeys([*ref.index, *cur.index]))
    keys = sorted(keys, key=lambda k: -max(ref.get(k, 0.0), cur.get(k, 0.0)))[:MAX_CATEGORIES]
    x = np.arange(len(keys))
    fig, ax = _figure()
    ax.bar(x - 0.2, [ref.get(k, 0.0) for k in keys], 0.4, label="reference", color="#4c72b0")
    ax.bar(x + 0.2, [cur.get(k, 0.0) for k in keys], 0.4, label="window", color="#dd8452")
    ax.set_xticks(x, keys, rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("share")
    ax.set_title(name)
    ax.legend()
    return _svg(fig)


def _figure() -> tuple[Any, Axes]:
    """A pyplot-free figure (thread-safe, no GUI backend)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.2), layout="constrained")
    return fig, fig.subplots()


def _svg(fig: Any) -> str:
    """The figure as an inline <svg> element."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg") :]
