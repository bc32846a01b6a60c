"""ONNX Runtime against the service's fast path, per candidate family, in one process and run.

For each candidate in params.yaml's `train.candidates`, the pipeline `train.build_pipeline`
makes is fitted on the default table's training split (the seeded split `features` makes),
then scored three ways on holdout records as the service gets them (dicts, nulls as None):

- service: the scorer `model_holder.make_scorer` builds and verifies for /predict (the lean
  fast path; for a random forest, since FlatForest was deleted, its ONNX graph);
- ONNX: `portable.to_onnx` of the same fitted pipeline in onnxruntime sessions built once,
  fed from the same dicts: one intra-op thread for single records (the service runs one
  thread per small call); for the 10,000-record request the faster of one thread and every
  core (the service gives a large request every core);
- sklearn: `pipeline.predict_proba` on the typed frame (`fastpath.pipeline_scorer`), the
  reference both must match.

Single records: calls/s from the median of many timed calls; one 10,000-record request:
rows/s from the median of 10. Prints a table with the ONNX/service ratios (the issue's bar is
0.80), the service/sklearn speed-up (for the forest: ONNX serving against the pipeline) and
the largest |score difference| of each path against sklearn on the holdout.

    uv run python benchmarks/onnx_fastpath.py [--singles 1000] [--repeats 10]

Takes about 2 minutes on 2 quiet cores (4 to 6 while others load them).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

import numpy as np

Row = dict[str, Any]
BAR = 0.80  # the issue: serve ONNX where it reaches 80% of the fast path's throughput


def records(frame: Any, features: Sequence[str]) -> list[Row]:
    """Holdout rows as the service's decoded records: plain values, nulls as None."""
    feats = frame[list(features)].astype(object)
    return [
        {str(k): v for k, v in r.items()}
        for r in feats.where(feats.notna(), None).to_dict("records")
    ]


def onnx_scorer(blob: bytes, params: Any, threads: int) -> Callable[[Sequence[Row]], Any]:
    """Rows -> onnxruntime feed ([n, 1] per column) -> positive-class scores; session made once."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(blob, options, providers=["CPUExecutionProvider"])
    output = [session.get_outputs()[-1].name]
    numeric, categorical = list(params.data.numeric), list(params.data.categorical)
    pick = itemgetter(*numeric, *categorical)
    split = len(numeric)

    def score(rows: Sequence[Row]) -> Any:
        columns = list(zip(*map(pick, rows), strict=True))  # one C-level transpose
        feed: dict[str, Any] = {}
        for c, values in zip(numeric, columns[:split], strict=True):
            feed[c] = np.array(values, dtype=np.float64).reshape(-1, 1)  # None -> NaN
        for c, values in zip(categorical, columns[split:], strict=True):
            col = np.array(values, dtype=object)
            col[[v is None for v in values]] = ""  # the graph's string imputers look for ''
            feed[c] = col.reshape(-1, 1)
        return session.run(output, feed)[0][:, 1].astype(np.float64)

    return score


def convert(pipe: Any, params: Any) -> tuple[bytes, str]:
    """`portable.to_onnx`; when skl2onnx refuses, retried with its numpy-int attribute bug patched.

    skl2onnx passes numpy integers (`nodes_missing_value_tracks_true` of a boosted model) where
    onnx wants Python ints, so `portable.export` tags HistGradientBoosting "unsupported". The
    retry, for this benchmark only, turns them into ints so the family can still be timed.
    """
    import onnx.helper

    from lifecycle.portable import to_onnx

    try:
        return to_onnx(pipe, params), "portable.to_onnx"
    except Exception as err:  # skl2onnx raises many types for a family it cannot convert
        why = f"portable.to_onnx refused ({type(err).__name__}); benchmark-only patch"
    original = onnx.helper.make_attribute

    def make_attribute(key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(value, list) and value and isinstance(value[0], np.integer):
            value = [int(v) for v in value]
        return original(key, value, *args, **kwargs)

    onnx.helper.make_attribute = make_attribute
    try:
        return to_onnx(pipe, params), why
    finally:
        onnx.helper.make_attribute = original


def per_call(score: Callable[[Sequence[Row]], Any], rows: list[Row], calls: int) -> float:
    """Median seconds of one single-record call, cycling through the records."""
    times = []
    for i in range(calls):
        one = [rows[i % len(rows)]]
        t0 = time.perf_counter()
        score(one)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def per_request(score: Callable[[Sequence[Row]], Any], rows: list[Row], repeats: int) -> float:
    """Median seconds of one call on all the rows."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        score(rows)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    """Fit each candidate, time the three scorers, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--singles", type=int, default=1000, help="timed single-record calls")
    parser.add_argument("--repeats", type=int, default=10, help="timed 10,000-record calls")
    parser.add_argument("--rows", type=int, default=10_000, help="records in the large request")
    parser.add_argument("--only", nargs="*", help="candidate names (default: all)")
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    from lifecycle.config import load_params
    from lifecycle.features import binary_target, model_inputs, split_frame
    from lifecycle.ingest import read_source
    from lifecycle.serve.fastpath import pipeline_scorer
    from lifecycle.serve.model_holder import make_scorer, scorer_engine
    from lifecycle.train import build_pipeline

    started = time.perf_counter()
    params = load_params()
    raw = read_source(params.data).rename(columns=params.data.rename)
    train, holdout = split_frame(raw, params.data, params.split)
    x, y = model_inputs(train, params.data), binary_target(train, params.data)
    rows = records(model_inputs(holdout, params.data), params.data.features)
    big = (rows * (args.rows // len(rows) + 1))[: args.rows]
    cores = os.cpu_count() or 1
    print(f"{len(train)} training rows, {len(rows)} holdout records, {cores} cores")
    table = []
    for cand in params.train.candidates:
        if args.only and cand.name not in args.only:
            continue
        t0 = time.perf_counter()
        with threadpool_limits(1, user_api="openmp"):  # OpenMP spinning on a shared machine
            pipe = build_pipeline(cand, params).fit(x, y)
        fit_s = time.perf_counter() - t0
        fast, used, note = make_scorer(pipe, params)
        slow = pipeline_scorer(pipe, params.data.numeric, params.data.categorical)
        want = slow(rows)
        t0 = time.perf_counter()
        onnx_one: Callable[[Sequence[Row]], Any] | None = None
        try:
            blob, how = convert(pipe, params)
            onnx_one, onnx_all = onnx_scorer(blob, params, 1), onnx_scorer(blob, params, cores)
            how = f"{len(blob) / 1e6:.2f} MB by {how} in {time.perf_counter() - t0:.1f} s"
        except Exception as err:  # converter or runtime refusing the family: reported, not fatal
            how = f"no usable graph: {type(err).__name__}: {' '.join(str(err).split())[:200]}"
        diff_fast = float(np.max(np.abs(fast(rows) - want)))
        diff_fast_1 = max(abs(float(fast([r])[0]) - float(want[i])) for i, r in
                          enumerate(rows[:500]))  # fmt: skip
        with threadpool_limits(1, user_api="openmp"):  # as the service runs small calls
            singles = {
                "fast": per_call(fast, rows, args.singles),
                "sklearn": per_call(slow, rows, max(args.singles // 20, 30)),
            }
        repeats = args.repeats if onnx_one is not None else 3  # nothing to compare: be brief
        large = {
            "fast": per_request(fast, big, repeats),
            "sklearn": per_request(slow, big, repeats),
        }
        onnx_diffs = ""
        if onnx_one is not None:
            diff_onnx = float(np.max(np.abs(onnx_all(rows) - want)))
            diff_onnx_1 = max(abs(float(onnx_one([r])[0]) - float(want[i])) for i, r in
                              enumerate(rows[:500]))  # fmt: skip
            onnx_diffs = f", onnx {diff_onnx:.2e} (single calls {diff_onnx_1:.2e})"
            with threadpool_limits(1, user_api="openmp"):
                singles["onnx"] = per_call(onnx_one, rows, args.singles)
            threads = {1: per_request(onnx_one, big, args.repeats)}
            if cores > 1:
                threads[cores] = per_request(onnx_all, big, args.repeats)
            best = min(threads, key=threads.__getitem__)  # the better thread count for ONNX
            large["onnx"] = threads[best]
            how += "; 10,000 rows: " + ", ".join(
                f"{n} thread(s) {t * 1e3:.0f} ms" for n, t in threads.items()
            )
        print(
            f"\n{cand.name} ({cand.family}): fit {fit_s:.1f} s; service scorer: "
            f"{scorer_engine(fast)}, used: {used} ({note})\n"
            f"  onnx: {how}\n"
            f"  max |score - sklearn| on {len(rows)} holdout rows: service {diff_fast:.1e} "
            f"(single calls {diff_fast_1:.1e}){onnx_diffs}",
            flush=True,
        )
        table.append((cand.name, cand.family, singles, large))
    print(
        f"\n| family | size | sklearn | service | service / sklearn | ONNX | ONNX / service "
        f"| >= {BAR:.0%} |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, family, singles, large in table:
        for size, got, unit in (("1 record", singles, "calls/s"), (f"{args.rows:,}", large, "")):
            per = 1 if unit else args.rows
            unit = unit or "rows/s"

            def rate(seconds: float, per: int = per) -> float:
                return per / seconds

            if "onnx" in got:
                ratio = got["fast"] / got["onnx"]
                verdict = "yes" if ratio >= BAR else "no"
                onnx = f"{rate(got['onnx']):,.0f} {unit} | {ratio:.2f} | {verdict}"
            else:
                onnx = "no graph | - | no"
            print(
                f"| {name} ({family}) | {size} | {rate(got['sklearn']):,.0f} {unit} "
                f"| {rate(got['fast']):,.0f} {unit} | {got['sklearn'] / got['fast']:.1f}x "
                f"| {onnx} |"
            )
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
