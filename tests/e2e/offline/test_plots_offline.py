"""`dvc plots show` pages render opened as a file with the network cut, through the template
the repository's .dvc/config names; DVC's default page (vega from a CDN) is the control."""

from __future__ import annotations

import configparser
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import Page

from tests.e2e.offline.browser import Cut, needs_chromium, offline_page

REPO = Path(__file__).resolve().parents[3]
DVC = str(Path(sys.executable).with_name("dvc"))


def repo_template() -> Path:
    """The HTML template the repository's .dvc/config sets (relative to .dvc, as DVC reads it)."""
    config = configparser.ConfigParser()
    config.read(REPO / ".dvc" / "config")
    return (REPO / ".dvc" / config["plots"]["html_template"]).resolve()


def evaluate_plots() -> list[dict[str, Any]]:
    """The evaluate stage's plot declarations in dvc.yaml: file, x, y, title."""
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    declared = [p for s in stages.values() for p in s.get("plots", [])]
    return [{"file": f, **spec} for p in declared for f, spec in p.items()]


def dvc(root: Path, *args: str) -> None:
    """Run the environment's dvc in a repo, failing loudly."""
    subprocess.run([DVC, *args], cwd=root, check=True, capture_output=True, timeout=300)


@pytest.fixture(scope="module")
def plots_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git+dvc repo with the evaluate stage's plots (fixed small curves) as top-level plots."""
    root = tmp_path_factory.mktemp("plots")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    dvc(root, "init", "-q")
    dvc(root, "config", "core.analytics", "false")
    plots = []
    for n, spec in enumerate(evaluate_plots()):
        rows = [
            {spec["x"]: i / 10, spec["y"]: round(math.pow(i / 10, 1 / (n + 2)), 6)}
            for i in range(11)
        ]
        path = root / spec["file"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(rows))
        plots.append({spec["file"]: {"x": spec["x"], "y": spec["y"], "title": spec["title"]}})
    (root / "dvc.yaml").write_text(yaml.safe_dump({"plots": plots}))
    return root


def render(page: Page, html: Path, expected: int) -> int:
    """Open the page as a file; how many vega charts (svg or canvas) it drew, waiting up to
    10 s for `expected` of them (vegaEmbed draws asynchronously)."""
    page.goto(html.as_uri(), wait_until="load")
    drawn: int = page.evaluate(
        """(expected) => new Promise(done => {
            const count = () => document.querySelectorAll(
                '.vega-embed svg.marks, .vega-embed canvas.marks').length;
            let tries = 0;
            const poll = () =>
                (count() >= expected || ++tries > 100) ? done(count()) : setTimeout(poll, 100);
            poll();
        })""",
        expected,
    )
    return drawn


def test_repo_config_names_the_offline_template() -> None:
    """Plain `dvc plots show` in this repo uses the template; it has DVC's placeholder, the three
    libraries inline and no CDN address."""
    template = repo_template()
    assert template == REPO / "dvc_templates" / "plots.html"
    text = template.read_text()
    assert "{plot_divs}" in text
    assert "{scripts}" not in text  # DVC would put its CDN <script> tags there
    assert "http://" not in text.split("<script>")[0]
    assert "cdn.jsdelivr" not in text
    for name in ("vega", "vega-lite", "vega-embed"):
        assert (REPO / "dvc_templates" / "licenses" / f"{name}.LICENSE").is_file()


@pytest.mark.slow
@needs_chromium
def test_dvc_plots_render_offline(plots_repo: Path) -> None:
    """With the repo's template every plot is drawn and nothing is fetched; DVC's default page,
    the control, tries its CDN and draws nothing."""
    expected = len(evaluate_plots())
    assert expected >= 4
    dvc(plots_repo, "plots", "show", "-o", "default_plots")
    dvc(plots_repo, "config", "plots.html_template", str(repo_template()))
    dvc(plots_repo, "plots", "show")
    with offline_page() as (page, cut):
        assert isinstance(page, Page)
        drawn_default = render(page, plots_repo / "default_plots" / "index.html", expected)
        control = Cut(cut.aborted[:], cut.errors[:])
        cut.aborted.clear()
        cut.errors.clear()
        drawn = render(page, plots_repo / "dvc_plots" / "index.html", expected)
    assert len(control.aborted) >= 3, control.aborted
    assert control.errors, "the control page should fail without its CDN"
    assert drawn_default == 0
    assert cut.aborted == []
    assert cut.errors == []
    assert drawn == expected
