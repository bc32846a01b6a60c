"""Our per-feature verdicts agree with Evidently's DataDriftPreset set to the same tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifecycle.config import Params
from lifecycle.ingest import apply_scenario, read_source, split_arrival
from lifecycle.monitor.check import check_drift
from lifecycle.monitor.peer import run_evidently

ROOT = Path(__file__).resolve().parents[3]
PEER = ROOT / "benchmarks" / "evidently_peer.py"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_verdicts_agree_on_every_scenario_and_month(params: Params, tmp_path: Path) -> None:
    table = read_source(params.data).rename(columns=params.data.rename)
    reference, months = split_arrival(table, params.simulation)
    ref_path = tmp_path / "reference.parquet"
    reference.to_parquet(ref_path, index=False)
    windows: dict[tuple[str, int], Path] = {}
    ours: dict[tuple[str, int], dict[str, bool | None]] = {}
    for name in ["none", *params.simulation.scenarios]:
        for m, batch in enumerate(months, start=1):
            if name != "none":
                sc = params.simulation.scenarios[name]
                batch = apply_scenario(batch, sc, params.data, seed=m)
            path = tmp_path / f"{name}_{m}.parquet"
            batch.to_parquet(path, index=False)
            windows[(name, m)] = path
            report = check_drift(reference, batch, params, f"{name}_{m}")
            ours[(name, m)] = {f.column: f.drifted for f in report.features}

    peer = run_evidently(ref_path, list(windows.values()), params.data, params.drift, PEER)
    theirs = {key: run["columns"] for key, run in zip(windows, peer["runs"], strict=True)}

    agree: dict[str, list[bool]] = {}
    for (name, m), verdicts in ours.items():
        assert set(theirs[(name, m)]) == set(verdicts)
        for column, drifted in verdicts.items():
            assert drifted is not None  # monthly batches are large enough for every test
            agree.setdefault(name, []).append(drifted == theirs[(name, m)][column]["drifted"])
    shares = {name: sum(v) / len(v) for name, v in agree.items()}
    overall = sum(sum(v) for v in agree.values()) / sum(len(v) for v in agree.values())
    print(f"agreement with Evidently: overall {overall:.1%}, by scenario {shares}")
    assert overall >= 0.95
    assert all(share >= 0.95 for share in shares.values()), shares
    for name, sc in params.simulation.scenarios.items():  # the drifted column, both say so
        if sc.kind != "relation":
            assert all(theirs[(name, m)][sc.column]["drifted"] for m in range(1, len(months) + 1))
