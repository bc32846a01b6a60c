"""Sampling the source for CI, and the post-deploy smoke probe against a real local server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from lifecycle.ci.cli import ci_app
from lifecycle.ci.sample import SampleError, sample_rows
from lifecycle.config import load_params
from tests.support.project import fast_params_raw, write_project


def test_sample_rows_is_seeded_ordered_and_bounded() -> None:
    df = pd.DataFrame({"x": range(100)})
    a, b = sample_rows(df, 10, 7), sample_rows(df, 10, 7)
    assert list(a["x"]) == list(b["x"]) == sorted(a["x"])
    assert len(a) == 10 and list(sample_rows(df, 10, 8)["x"]) != list(a["x"])
    assert len(sample_rows(df, 500, 7)) == 100
    with pytest.raises(SampleError):
        sample_rows(df, 0, 7)


def test_sample_command_points_params_at_the_sample(tmp_path: Path) -> None:
    source = tmp_path / "table.csv"
    raw = fast_params_raw()
    full = pd.DataFrame({"n": range(3000)})
    full.to_csv(source, index=False)
    raw["data"]["source"] = str(source)
    root = write_project(tmp_path / "p", raw)
    out = root / "data" / "sample" / "source.parquet"
    done = CliRunner().invoke(
        ci_app, ["sample", "--rows", "1200", "--params", str(root / "params.yaml"),
                 "--out", str(out)],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert len(pd.read_parquet(out)) == 1200
    assert load_params(root / "params.yaml").data.source == "data/sample/source.parquet"
    # everything else in params is kept
    after = yaml.safe_load((root / "params.yaml").read_text())
    assert after["train"] == raw["train"] and after["validation"] == raw["validation"]


def test_sample_too_small_for_validation_is_refused(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", fast_params_raw())
    before = (root / "params.yaml").read_text()
    done = CliRunner().invoke(ci_app, ["sample", "--rows", "100", "--params",
                                       str(root / "params.yaml")])  # fmt: skip
    assert done.exit_code == 1
    assert "validation.min_rows" in done.output
    assert (root / "params.yaml").read_text() == before


class _Ready(BaseHTTPRequestHandler):
    """Answers 503 twice, then 200: a service that is still rolling out."""

    calls = 0

    def do_GET(self) -> None:
        type(self).calls += 1
        self.send_response(200 if type(self).calls > 2 else 503)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def ready_url() -> Iterator[str]:
    """A real HTTP server on a free loopback port."""
    _Ready.calls = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ready)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ready"
    server.shutdown()
    server.server_close()


def test_smoke_waits_for_ready(ready_url: str) -> None:
    done = CliRunner().invoke(ci_app, ["smoke", ready_url, "--timeout", "10", "--interval", "0.05"])
    assert done.exit_code == 0, done.output
    assert "200 after 3 tries" in done.output


def test_smoke_fails_when_nothing_answers(ready_url: str) -> None:
    dead = ready_url.rsplit(":", 1)[0] + ":1/ready"
    done = CliRunner().invoke(ci_app, ["smoke", dead, "--timeout", "0.3", "--interval", "0.1"])
    assert done.exit_code == 1
    assert "no 200" in done.output
