"""The pull-request report from real `dvc params/metrics/plots diff` in a small git + DVC repo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lifecycle.ci.cli import ci_app
from lifecycle.ci.report import MARKER, PlotChange, compose, plot_changes


def test_pr_comment_shows_metric_param_and_plot_changes(dvc_repo: Path) -> None:
    out = dvc_repo / "comment.md"
    done = CliRunner().invoke(
        ci_app, ["pr-comment", "--base", "main", "--out", str(out), "--plots-dir", "plots"]
    )
    assert done.exit_code == 0, done.output
    body = out.read_text()
    assert body.startswith(MARKER)
    metrics = body.split("### Metrics", 1)[1].split("###", 1)[0]
    assert "roc_auc" in metrics and "0.8" in metrics and "0.84" in metrics
    params = body.split("### Params", 1)[1].split("###", 1)[0]
    assert "train.C" in params and "1.0" in params and "0.5" in params
    plots = body.split("### Plots", 1)[1]
    assert "points (main)" in plots and "points (workspace)" in plots
    assert "| reports/roc.json | yes | 3 | 3 |" in plots
    assert (dvc_repo / "plots" / "index.html").is_file()


def test_unknown_base_fails_with_dvcs_message(dvc_repo: Path) -> None:
    done = CliRunner().invoke(ci_app, ["pr-comment", "--base", "no-such-branch"])
    assert done.exit_code == 1
    assert "dvc params diff no-such-branch" in done.output
    assert not (dvc_repo / "pr-comment.md").exists()


def test_compose_without_changes_says_so() -> None:
    body = compose("main", "", "", [])
    assert "No metric changed." in body and "No param changed." in body
    assert "No plot found." in body


def test_compose_links_the_run_and_the_note() -> None:
    body = compose("main", "", "", [PlotChange("roc", {"main": 3})],
                   run_url="https://github.com/o/r/actions/runs/1", note="sampled")  # fmt: skip
    assert "[this run](https://github.com/o/r/actions/runs/1)" in body
    assert "\nsampled\n" in body
    assert "| roc | no | 3 |" in body


def test_plot_changes_counts_points_per_revision() -> None:
    values = [{"x": 1, "rev": "a"}, {"x": 2, "rev": "a"}, {"x": 1, "rev": "b"}]
    raw = {"data": {"p.json": [{"content": {"data": {"values": values}}}]}}
    assert plot_changes(json.dumps(raw)) == [PlotChange("p.json", {"a": 2, "b": 1}, True)]
    same = [{"x": 1, "rev": "a"}, {"x": 1, "rev": "b"}]
    raw = {"data": {"p.json": [{"content": {"data": {"values": same}}}]}}
    assert plot_changes(json.dumps(raw)) == [PlotChange("p.json", {"a": 1, "b": 1}, False)]
    assert plot_changes("") == []


@pytest.mark.parametrize("errors", [{"errors": [{"msg": "x"}]}])
def test_plot_changes_skips_the_error_list(errors: dict[str, object]) -> None:
    assert plot_changes(json.dumps(errors)) == []
