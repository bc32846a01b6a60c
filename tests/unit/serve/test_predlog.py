"""The prediction log: non-blocking appends, day partitions, nothing lost on close."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lifecycle.paths import Paths
from lifecycle.predictions import labelled, read_lines
from lifecycle.serve.outcomes import OutcomeStore
from lifecycle.serve.predlog import Entry, PredictionLog, format_entry


def entry(rid: str, when: datetime, n: int = 2) -> Entry:
    """n records of one request."""
    rows = [{"x": float(i), "c": "a"} for i in range(n)]
    return Entry(rid, when, "7", rows, [0.25] * n, ["No"] * n, "api")


def test_concurrent_appends_all_written_on_close(tmp_path: Path) -> None:
    """16 threads x 200 requests: every record is one line after close, none before flush."""
    log = PredictionLog(tmp_path / "predictions", flush_seconds=30)
    log.start()
    now = datetime.now(UTC)

    def work(t: int) -> None:
        for i in range(200):
            log.append(entry(f"{t}-{i}", now, 3))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert log.appended == 16 * 200 * 3
    log.close()
    lines = [json.loads(x) for f in (tmp_path / "predictions").rglob("*.jsonl") for x in f.open()]
    assert len(lines) == log.written == 16 * 200 * 3
    assert {"request_id", "record", "time", "model_version", "score", "label", "x", "c"} <= set(
        lines[0]
    )


def test_day_partitions_and_feedback_join(tmp_path: Path) -> None:
    """One folder per UTC day; feedback joins on (request_id, record), the latest wins."""
    paths = Paths(tmp_path)
    log = PredictionLog(paths.predictions)
    today = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
    log.append(entry("a", today))
    log.append(entry("b", today + timedelta(minutes=2)))
    log.close()
    days = sorted(p.name for p in paths.predictions.iterdir())
    assert days == ["date=2026-03-01", "date=2026-03-02"]
    store = OutcomeStore(paths)  # written once, then corrected: the correction wins
    store.record([{"request_id": "a", "outcome": "No"}], "outcomes")
    store.correct("a", 0, "Yes", "late CRM update", "operator")
    joined = labelled(paths).sort_values(["request_id", "record"])
    assert [o if isinstance(o, str) else None for o in joined["outcome"]] == ["Yes"] + [None] * 3
    assert not any("feedback" in str(p) for p in paths.predictions.rglob("*"))


def test_subnormal_numbers_read_back(tmp_path: Path) -> None:
    """A finite but subnormal feature (1e-310) does not make the log unreadable."""
    log = PredictionLog(tmp_path / "p")
    rows = [{"x": 1e-310, "c": "a"}, {"x": 2.0, "c": "b"}]
    log.append(Entry("s", datetime.now(UTC), "1", rows, [0.1, 0.2], ["No", "No"], "api"))
    log.close()
    frame = read_lines(tmp_path / "p")
    assert frame["x"].tolist() == [1e-310, 2.0] and frame["score"].tolist() == [0.1, 0.2]


def test_lines_are_whole_json_objects_with_awkward_values() -> None:
    """Quotes, unicode, nulls, huge and tiny numbers, an integer label, a subset of records:
    every line reads back as exactly the record's fields plus the request's."""
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    rows = [
        {"x": 1e-310, "c": 'say "hi"\n', "customer_id": 7},
        {"x": None, "c": "caf\u00e9 \u2603", "customer_id": "A-1"},
        {"x": -123456789.125, "c": "}{,", "customer_id": 2**52},
    ]
    e = Entry("r-1", when, "3", rows, [0.1, 0.5, 1.0], [0, 1, 1], "api", [4, 0, 9], "canary")
    got = [json.loads(line) for line in format_entry(e)]
    shared = {"request_id": "r-1", "time": "2026-01-02T03:04:05.000000+00:00"}
    shared |= {"model_version": "3", "source": "api", "variant": "canary"}
    expected = [
        {**shared, "record": i, "score": s, "label": lab, **row}
        for i, s, lab, row in zip([4, 0, 9], [0.1, 0.5, 1.0], [0, 1, 1], rows, strict=True)
    ]
    assert got == expected
    assert all(line.endswith(b"}\n") and line.count(b"\n") == 1 for line in format_entry(e))


def test_large_entries_are_written_in_chunks_identical_to_one_piece(tmp_path: Path) -> None:
    """A 2,500-record entry (with shadow scores and record indexes) is split for formatting;
    the file holds exactly the lines of the whole entry, in order."""
    when = datetime(2026, 3, 1, tzinfo=UTC)
    n = 2_500
    rows = [{"x": float(i), "c": "a"} for i in range(n)]
    e = Entry(
        "big", when, "2", rows, [i / n for i in range(n)], ["No"] * n, "api",
        list(range(n, 0, -1)), "champion", "3", [0.5] * n, ["Yes"] * n,
    )  # fmt: skip
    log = PredictionLog(tmp_path / "p", flush_seconds=30)
    log.append(e)
    log.close()
    [written] = (tmp_path / "p").rglob("*.jsonl")
    assert written.read_bytes().splitlines(keepends=True) == format_entry(e)


def test_writer_formats_while_idle_and_never_delays_shutdown(tmp_path: Path) -> None:
    """While a request is in flight the flush waits (up to one interval); once the service
    is idle it writes at once; closing with a request in flight does not wait."""
    idle = threading.Event()  # cleared: a request is in flight
    log = PredictionLog(tmp_path / "p", flush_seconds=30, idle=idle)
    log.append(entry("r1", datetime(2026, 3, 2, tzinfo=UTC), 3))
    flusher = threading.Thread(target=log.flush)
    flusher.start()
    flusher.join(0.4)
    assert flusher.is_alive() and log.written == 0
    assert log.pending == 3  # taken by the flush, still not on disk
    idle.set()
    flusher.join(5)
    assert not flusher.is_alive() and log.written == 3 and log.pending == 0
    idle.clear()
    log.append(entry("r2", datetime(2026, 3, 2, tzinfo=UTC), 2))
    started = time.monotonic()
    log.close()
    assert time.monotonic() - started < 5 and log.written == 5


def test_write_now_is_on_disk_before_it_returns_and_never_interleaves(tmp_path: Path) -> None:
    """16 threads x 50 answers written at once: every line whole, in the file on return."""
    log = PredictionLog(tmp_path / "p")
    now = datetime.now(UTC)

    def work(t: int) -> None:
        for i in range(50):
            e = entry(f"{t}-{i}", now, 3)
            log.write_now([e])
            text = "".join(f.read_text() for f in (tmp_path / "p").rglob("*.jsonl"))
            assert text.count(f'"request_id":"{t}-{i}"') == 3  # before the answer would leave

    threads = [threading.Thread(target=work, args=(t,)) for t in range(16)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    log.close()
    frame = read_lines(tmp_path / "p")
    assert len(frame) == 16 * 50 * 3 and frame["request_id"].nunique() == 800


def test_flags_and_correlation_id_reach_the_line(tmp_path: Path) -> None:
    """An out-of-contract record's line says which rule; the caller's id rides beside."""
    e = Entry("r", datetime(2026, 3, 2, tzinfo=UTC), "3", [{"x": -5.0}, {"x": 1.0}],
              [0.1, 0.2], ["No", "No"], "api", correlation_id="crm-9",
              flags=["x=-5.0: must be within [0, 10] (validation.ranges)", None])  # fmt: skip
    first, second = (json.loads(ln) for ln in format_entry(e))
    assert first["out_of_contract"].startswith("x=-5.0") and "out_of_contract" not in second
    assert first["correlation_id"] == second["correlation_id"] == "crm-9"
    assert first["x"] == -5.0 and second["record"] == 1
