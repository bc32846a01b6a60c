"""The report's files: JSON for machines, one offline HTML page for people."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from lifecycle.config import Params
from lifecycle.ingest import apply_scenario
from lifecycle.monitor.check import check_drift
from lifecycle.monitor.report import write_report_html, write_report_json


def test_reports_are_written_as_json_and_offline_html(
    params: Params, reference: pd.DataFrame, batch: pd.DataFrame, tmp_path: Any
) -> None:
    scenario = params.simulation.scenarios["price_increase"]
    drifted = apply_scenario(batch, scenario, params.data, seed=3)
    report = check_drift(reference, drifted, params, "month_01-price_increase")
    json_path = write_report_json(report, tmp_path)
    html_path = write_report_html(report, reference, drifted, tmp_path)
    assert json_path.name == "month_01-price_increase.json"
    body = json.loads(json_path.read_text())
    assert body["verdict"] == "drift"
    assert scenario.column in body["drifting_features"]
    assert body["features"][0]["column"] == params.data.numeric[0]
    page = html_path.read_text()
    assert page.count("<svg") == len(report.drifting_features)
    assert f"<h2>{scenario.column}</h2>" in page
    assert "<script" not in page
    assert "<link" not in page
    assert 'src="http' not in page
    assert f"| {scenario.column} | ks |" in report.to_markdown()
