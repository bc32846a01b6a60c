"""The value estimate's track record: replay the simulated months with outcomes withheld, estimate,
reveal, and compare with NannyML's CBPE on the same months.

Run: `uv run python benchmarks/value_estimate.py` (add `--no-nannyml` to skip the peer). Trains
the project's candidates on the reference period (as `lifecycle train` would pick the champion
by params' selection metric on the holdout), checks and if needed calibrates its scores on the
holdout (lifecycle.value.calibration), then for every scenario and month: the estimate from
scores only (lifecycle.value.estimate), then the realized ROC AUC and campaign value. Prints per
scenario the mean absolute error of the estimated ROC AUC (target <= 0.03) and of the value
(relative to the realized value, target <= 15%), the share of months whose realized value fell
outside the estimate's interval (the decay flag), and the time: fit + estimate of every month
on both sides (our calibration check, NannyML's calibrator), median of 3 repetitions, imports
excluded, ours also with 400 outcome draws, and the speed ratio. `tenure_relation` changes the
relation between inputs and outcome, which no confidence-based estimate can see: it is reported
apart, and its decay flags are the point.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NANNYML = ("nannyml==0.13.1", "statsmodels")
COVARIATE = ("none", "price_increase", "contract_mix", "new_payment_method")
CONCEPT = ("tenure_relation",)


def champion(params: Any, reference: Any) -> tuple[Any, Any, Any]:
    """The best candidate on the holdout by params' selection metric; it and the holdout split."""
    from lifecycle.features import binary_target, model_inputs, split_frame
    from lifecycle.metrics import metric_value
    from lifecycle.train import build_pipeline

    train, holdout = split_frame(reference, params.data, params.split)
    x, y = model_inputs(train, params.data), binary_target(train, params.data)
    xh, yh = model_inputs(holdout, params.data), binary_target(holdout, params.data)
    best, best_score = None, float("-inf")
    for cand in params.train.candidates:
        model = build_pipeline(cand, params).fit(x, y)
        got = metric_value(params.train.selection_metric, yh, model.predict_proba(xh)[:, 1],
                           params.campaign)  # fmt: skip
        if got > best_score:
            best, best_score = (cand.name, model), got
    assert best is not None
    return best, holdout, yh


def replay(
    params: Any, months: list[Any], model: Any, cal: Any, inputs: list[tuple[Any, Any]]
) -> list[dict[str, Any]]:
    """Every scenario x month: estimate with outcomes withheld, then reveal (inputs: kept)."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    from lifecycle.features import binary_target, model_inputs
    from lifecycle.ingest import apply_scenario
    from lifecycle.value.economics import realized_value
    from lifecycle.value.estimate import estimate

    v = params.value
    rows = []
    for name in (*COVARIATE, *CONCEPT):
        for month, batch in enumerate(months, start=1):
            frame = batch
            if name != "none":
                spec = params.simulation.scenarios[name]
                frame = apply_scenario(
                    batch, spec, params.data, seed=params.simulation.seed + month
                )
            scores = np.asarray(model.predict_proba(model_inputs(frame, params.data))[:, 1])
            inputs.append((name, scores))
            t0 = time.perf_counter()
            est = estimate(scores, cal.apply(scores), params.campaign, confidence=v.confidence,
                           draws=v.draws, seed=v.seed)  # fmt: skip
            seconds = time.perf_counter() - t0
            y = binary_target(frame, params.data)  # revealed
            real_value = realized_value(y, scores, params.campaign)
            real_auc = float(roc_auc_score(y, scores))
            assert est.roc_auc is not None
            rows.append({
                "scenario": name, "month": month, "rows": len(frame),
                "est_auc": est.roc_auc.point, "auc": real_auc,
                "est_value": est.value_usd.point, "value": real_value,
                "low": est.value_usd.low, "high": est.value_usd.high,
                "decay": not est.value_usd.contains(real_value), "seconds": seconds,
            })  # fmt: skip
    return rows


def summary(rows: list[dict[str, Any]], names: tuple[str, ...]) -> dict[str, float]:
    """MAE of AUC, mean relative value error, decay flags and time over some scenarios."""
    mine = [r for r in rows if r["scenario"] in names]
    n = len(mine)
    return {
        "months": n,
        "auc_mae": sum(abs(r["est_auc"] - r["auc"]) for r in mine) / n,
        "value_mape": sum(abs(r["est_value"] - r["value"]) / abs(r["value"]) for r in mine) / n,
        "value_mae_usd": sum(abs(r["est_value"] - r["value"]) for r in mine) / n,
        "decay_flags": sum(r["decay"] for r in mine) / n,
        "estimate_ms_per_month": 1000 * sum(r["seconds"] for r in mine) / n,
    }


REPEAT = 3  # both sides: fit + estimate every month this many times, the median counts

PEER = """
import json, statistics, sys, time
t0 = time.perf_counter()
import nannyml as nml, pandas as pd
imp = time.perf_counter() - t0
ref, ana = pd.read_parquet(sys.argv[1]), pd.read_parquet(sys.argv[2])
parts = [(key, part.drop(columns=["key"])) for key, part in ana.groupby("key", sort=False)]
runs = []
for _ in range(int(sys.argv[3])):
    t1 = time.perf_counter()
    est = nml.CBPE(y_pred_proba="p", y_pred="pred", y_true="y",
                   problem_type="classification_binary", metrics=["roc_auc"],
                   chunk_number=1)  # one chunk: the whole month, as ours
    est.fit(ref)
    out = {}
    for key, part in parts:
        res = est.estimate(part).filter(period="analysis").to_df()
        out[key] = float(res[("roc_auc", "value")].mean())
    runs.append(time.perf_counter() - t1)
print(json.dumps({"import_s": imp, "run_s": statistics.median(runs), "runs_s": runs,
                  "auc": out}))
"""


def ours_seconds(
    params: Any, yh: Any, holdout_scores: Any, inputs: list[tuple[Any, Any]], draws: int
) -> dict[str, Any]:
    """Our side of NannyML's fit + estimate: the calibration check, then every month's estimate."""
    import statistics

    from lifecycle.value.calibration import fit_calibration
    from lifecycle.value.estimate import estimate

    v = params.value
    runs = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        cal = fit_calibration(yh, holdout_scores, v)
        for _name, scores in inputs:
            estimate(scores, cal.apply(scores), params.campaign, confidence=v.confidence,
                     draws=draws, seed=v.seed)  # fmt: skip
        runs.append(time.perf_counter() - t0)
    return {"run_s": statistics.median(runs), "runs_s": runs, "draws": draws}


def nannyml_peer(params: Any, model: Any, holdout: Any, yh: Any, months: list[Any],
                 rows: list[dict[str, Any]]) -> dict[str, Any]:  # fmt: skip
    """NannyML's CBPE in its own uv environment, on the same months; its AUC error and time."""
    import numpy as np
    import pandas as pd

    from lifecycle.features import model_inputs
    from lifecycle.ingest import apply_scenario

    thr = params.train.threshold
    ph = model.predict_proba(model_inputs(holdout, params.data))[:, 1]
    ref = pd.DataFrame({"p": ph, "pred": (ph >= thr).astype(int), "y": np.asarray(yh)})
    parts = []
    for name in (*COVARIATE, *CONCEPT):
        for month, batch in enumerate(months, start=1):
            frame = batch if name == "none" else apply_scenario(
                batch, params.simulation.scenarios[name], params.data,
                seed=params.simulation.seed + month)  # fmt: skip
            p = model.predict_proba(model_inputs(frame, params.data))[:, 1]
            parts.append(pd.DataFrame({"p": p, "pred": (p >= thr).astype(int),
                                       "key": f"{name}:{month}"}))  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        ref.to_parquet(folder / "ref.parquet")
        pd.concat(parts, ignore_index=True).to_parquet(folder / "ana.parquet")
        (folder / "peer.py").write_text(PEER)
        cmd = ["uv", "run", "--no-project", "--quiet", "--python", "3.11",
               *(a for pkg in NANNYML for a in ("--with", pkg)), "--with", "pyarrow",
               "python", str(folder / "peer.py"), str(folder / "ref.parquet"),
               str(folder / "ana.parquet"), str(REPEAT)]  # fmt: skip
        t0 = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=folder)
        wall = time.perf_counter() - t0
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-1500:], "wall_s": wall}
    got = json.loads(done.stdout.strip().splitlines()[-1])
    by = {f"{r['scenario']}:{r['month']}": r for r in rows}
    err = {k: abs(v - by[k]["auc"]) for k, v in got["auc"].items()}
    cov = [e for k, e in err.items() if k.split(":")[0] in COVARIATE]
    con = [e for k, e in err.items() if k.split(":")[0] in CONCEPT]
    return {"import_s": got["import_s"], "run_s": got["run_s"], "runs_s": got["runs_s"],
            "wall_s": wall,
            "auc_mae_covariate": sum(cov) / len(cov),
            "auc_mae_concept": sum(con) / len(con)}  # fmt: skip


def main() -> None:
    """Train, calibrate, replay, print the figures (JSON last)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-nannyml", action="store_true", help="skip the NannyML peer")
    args = parser.parse_args()
    from lifecycle.config import load_params
    from lifecycle.ingest import read_source, split_arrival
    from lifecycle.value.calibration import fit_calibration

    params = load_params(ROOT / "params.yaml")
    table = read_source(params.data).rename(columns=params.data.rename)
    reference, months = split_arrival(table, params.simulation)
    (name, model), holdout, yh = champion(params, reference)
    from lifecycle.features import model_inputs

    holdout_scores = model.predict_proba(model_inputs(holdout, params.data))[:, 1]
    cal = fit_calibration(yh, holdout_scores, params.value)
    inputs: list[tuple[Any, Any]] = []
    t0 = time.perf_counter()
    rows = replay(params, months, model, cal, inputs)
    replay_s = time.perf_counter() - t0
    print(f"champion {name}; {cal.reason}")
    print(f"{'scenario':>20} {'month':>5} {'est AUC':>8} {'AUC':>6} {'est value':>10} "
          f"{'value':>8} {'interval':>19} decay")  # fmt: skip
    for r in rows:
        print(f"{r['scenario']:>20} {r['month']:>5} {r['est_auc']:8.3f} {r['auc']:6.3f} "
              f"{r['est_value']:10,.0f} {r['value']:8,.0f} "
              f"[{r['low']:7,.0f},{r['high']:7,.0f}] {'DECAY' if r['decay'] else ''}")  # fmt: skip
    result = {
        "champion": name, "calibration": cal.to_dict() | {"knots_x": "...", "knots_y": "..."},
        "covariate_shift_and_none": summary(rows, COVARIATE),
        "no_drift": summary(rows, ("none",)),
        "covariate_shift": summary(rows, COVARIATE[1:]),
        "concept_drift_tenure_relation": summary(rows, CONCEPT),
        "replay_s": replay_s,
    }  # fmt: skip
    result["ours"] = ours_seconds(params, yh, holdout_scores, inputs, params.value.draws)
    result["ours_with_400_draws"] = ours_seconds(params, yh, holdout_scores, inputs, 400)
    if not args.no_nannyml:
        peer = nannyml_peer(params, model, holdout, yh, months, rows)
        result["nannyml"] = peer
        if "run_s" in peer:
            result["speed_ratio"] = peer["run_s"] / result["ours"]["run_s"]
            result["speed_ratio_with_400_draws"] = (
                peer["run_s"] / result["ours_with_400_draws"]["run_s"]
            )
    print(json.dumps(result, indent=2))
    if "speed_ratio" in result:
        print(f"fit + estimate of {len(rows)} months (median of {REPEAT}): ours "
              f"{result['ours']['run_s'] * 1000:.1f} ms, NannyML CBPE "
              f"{result['nannyml']['run_s'] * 1000:.0f} ms: ours {result['speed_ratio']:.0f}x "
              f"faster (with 400 outcome draws: "
              f"{result['speed_ratio_with_400_draws']:.0f}x)")  # fmt: skip


if __name__ == "__main__":
    main()
