"""Metering agrees with the OS (CPU, peak memory, storage); failed and crashed runs are recorded."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from lifecycle.config import Params
from lifecycle.ledger.meter import metered
from lifecycle.ledger.queries import get_entry

REPO = Path(__file__).resolve().parents[3]

WORKLOAD = """
    import subprocess, sys
    from lifecycle.config import load_params
    from lifecycle.ledger.meter import metered
    params = load_params()
    url = sys.argv[1]
    print("ready", flush=True); sys.stdin.readline()
    with metered("dvc_stage", "train", "development", "manual", run_key="cpu", params=params,
                 url=url, tag=False) as run:
        total = 0
        for i in range(6_000_000):
            total += i * i
        subprocess.run([sys.executable, "-c", "sum(i * i for i in range(4_000_000))"], check=True)
    print("done", flush=True); sys.stdin.readline()
"""


def _os_cpu(proc: psutil.Process) -> float:
    """The kernel's CPU seconds of a process and its waited-for children."""
    t = proc.cpu_times()
    return t.user + t.system + t.children_user + t.children_system


@pytest.mark.slow
def test_cpu_seconds_agree_with_the_os_within_ten_percent(sqlite_url: str) -> None:
    """The process's first run counts from its start (imports included), as the kernel does."""
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WORKLOAD), sqlite_url],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    proc = psutil.Process(child.pid)
    child.stdin.write("go\n")
    child.stdin.flush()
    assert child.stdout.readline().strip() == "done"
    os_seconds = _os_cpu(proc)  # since the process started: interpreter start and imports too
    child.stdin.write("exit\n")
    child.stdin.flush()
    child.wait(timeout=60)
    entry = get_entry("cpu", sqlite_url)
    assert entry is not None
    assert os_seconds > 0.5
    assert entry.usage.cpu_seconds == pytest.approx(os_seconds, rel=0.10)


LIVE_CHILD = """
    import subprocess, sys, time
    from lifecycle.config import load_params
    from lifecycle.ledger.meter import metered
    burn = "import time\\nsum(i * i for i in range(10_000_000))\\n" \\
        "print(time.process_time(), flush=True)\\ntime.sleep(60)"
    with metered("job", "workers", "development", "manual", run_key="tree", params=load_params(),
                 url=sys.argv[1], tag=False):
        worker = subprocess.Popen([sys.executable, "-c", burn], stdout=subprocess.PIPE, text=True)
        burned = float(worker.stdout.readline())  # still running when the run ends, like Dask's
    worker.kill(); worker.wait()
    print(burned, time.process_time(), flush=True)
"""


@pytest.mark.slow
def test_cpu_of_children_still_running_at_the_end_is_counted(sqlite_url: str) -> None:
    """A worker process alive when the run ends (not waited for) still counts: psutil sees it."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(LIVE_CHILD), sqlite_url],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    worker, own = float(out[0]), float(out[1])
    entry = get_entry("tree", sqlite_url)
    assert entry is not None
    assert worker > 0.3
    assert entry.usage.cpu_seconds == pytest.approx(own + worker, rel=0.10)


def test_a_nested_run_is_linked_and_counted_once(params: Params, sqlite_url: str) -> None:
    """A child's CPU is in its own row only: the parent's row keeps the rest, rows add up."""
    from lifecycle.ledger import usage as usage_mod

    start = usage_mod.TREE.claimed_cpu + usage_mod.TREE.claimed_children
    with metered("flow", "lifecycle", "development", "manual", params=params, url=sqlite_url,
                 tag=False) as parent:  # fmt: skip
        sum(i * i for i in range(300_000))
        with metered("flow", "train", "development", "manual", params=params, url=sqlite_url,
                     tag=False) as child:  # fmt: skip
            sum(i * i for i in range(2_000_000))
    end = usage_mod.TREE.claimed_cpu + usage_mod.TREE.claimed_children
    own, sub = get_entry(parent.key, sqlite_url), get_entry(child.key, sqlite_url)
    assert own is not None and sub is not None
    assert (sub.parent_key, own.parent_key) == (parent.key, None)
    assert own.started_at <= sub.started_at
    assert own.usage.cpu_seconds + sub.usage.cpu_seconds == pytest.approx(end - start)
    assert sub.usage.cpu_seconds > 0.05 and own.usage.cpu_seconds > 0
    assert own.usage.wall_seconds < sub.usage.wall_seconds + own.usage.wall_seconds
    assert parent.rollup.total_usd == pytest.approx(own.total_usd + sub.total_usd)
    assert parent.entry is not None
    tags = parent.entry.tags(parent.rollup)
    assert float(tags["cost.total_usd"]) == pytest.approx(own.total_usd + sub.total_usd, abs=1e-6)
    assert float(tags["cost.own_total_usd"]) == pytest.approx(own.total_usd, abs=1e-6)


def test_peak_memory_is_the_runs_own(params: Params, sqlite_url: str) -> None:
    """A run that allocates 300 MB shows it; the next, lighter run does not inherit that peak."""
    with metered("job", "big", "development", "manual", params=params, url=sqlite_url) as big:
        block = bytearray(300 * 1024 * 1024)
        block[::4096] = b"x" * len(block[::4096])
        del block
    with metered("job", "small", "development", "manual", params=params, url=sqlite_url) as small:
        pass
    assert big.entry is not None
    assert small.entry is not None
    assert big.entry.usage.peak_memory_bytes >= 300 * 1024 * 1024
    assert small.entry.usage.peak_memory_bytes < big.entry.usage.peak_memory_bytes - 200 * 1024**2


def test_storage_growth_counts_bytes_added_to_data(
    params: Params, sqlite_url: str, project_root: Path
) -> None:
    """Bytes written under data/, the DVC cache and MLflow artifacts are the run's growth."""
    (project_root / "data").mkdir()
    (project_root / "data" / "old.bin").write_bytes(b"0" * 5000)
    with metered("dvc_stage", "ingest", "development", "manual", params=params, url=sqlite_url) as (
        r
    ):
        (project_root / "data" / "raw").mkdir()
        (project_root / "data" / "raw" / "new.bin").write_bytes(b"1" * 1_000_000)
        (project_root / ".dvc" / "cache").mkdir(parents=True)
        (project_root / ".dvc" / "cache" / "obj").write_bytes(b"2" * 200_000)
        (project_root / "mlartifacts").mkdir()
        (project_root / "mlartifacts" / "model.pkl").write_bytes(b"3" * 30_000)
    assert r.entry is not None
    assert r.entry.usage.storage_bytes == 1_230_000
    assert r.entry.cost.storage_usd > 0


def test_links_and_git_commit_are_recorded(
    params: Params, sqlite_url: str, project_root: Path
) -> None:
    """Links given up front and during the run are stored; the commit is read from .git."""
    git = project_root / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text("ref: refs/heads/main\n")
    (git / "refs" / "heads" / "main").write_text("a" * 40 + "\n")
    with metered(
        "flow",
        "train",
        "development",
        "ci",
        links={"data_version": "md5:abc"},
        params=params,
        url=sqlite_url,
    ) as run:
        run.link(model_version=7)
    entry = get_entry(run.key, sqlite_url)
    assert entry is not None
    assert entry.links["data_version"] == "md5:abc"
    assert entry.links["model_version"] == "7"
    assert entry.links["git_commit"] == "a" * 40


def test_failed_and_crashed_runs_are_recorded(params: Params, ledger_url: str) -> None:
    """An exception is stored as failed, an interrupt as crashed, and both re-raised."""
    with (
        pytest.raises(ZeroDivisionError),
        metered("flow", "ingest", "maintenance", "schedule", params=params, url=ledger_url) as run,
    ):
        _ = 1 / 0
    with (
        pytest.raises(KeyboardInterrupt),
        metered("flow", "ingest", "maintenance", "schedule", params=params, url=ledger_url) as run2,
    ):
        raise KeyboardInterrupt
    failed, crashed = get_entry(run.key, ledger_url), get_entry(run2.key, ledger_url)
    assert failed is not None
    assert failed.status == "failed"
    assert failed.error is not None
    assert "ZeroDivisionError" in failed.error
    assert crashed is not None
    assert crashed.status == "crashed"
    assert failed.compute_usd > 0


def test_the_cli_tail_after_the_flows_is_claimed_by_the_run_summary(
    params: Params, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CPU spent after the last run closed (flow teardown) lands in the run's summary row."""
    import time

    from lifecycle import cli
    from lifecycle.ledger import usage as usage_mod
    from lifecycle.ledger.queries import iter_entries
    from lifecycle.paths import Paths

    monkeypatch.setenv("LIFECYCLE_LEDGER_URL", sqlite_url)
    monkeypatch.setattr("lifecycle.summary.render_summary", lambda p, d: "== summary ==")
    with metered("flow", "lifecycle", "development", "manual", params=params, tag=False):
        pass
    claimed = usage_mod.TREE.claimed_cpu + usage_mod.TREE.claimed_children
    spin = time.process_time() + 0.3
    while time.process_time() < spin:  # unmetered work between the flow and the summary
        pass
    assert cli._metered_summary(params, Paths.from_env()) == "== summary =="
    (row,) = [e for e in iter_entries(sqlite_url) if e.name == "run-summary"]
    assert (row.kind, row.status, row.parent_key) == ("job", "succeeded", None)
    assert row.usage.cpu_seconds >= 0.3
    assert row.usage.cpu_seconds == pytest.approx(
        usage_mod.TREE.claimed_cpu + usage_mod.TREE.claimed_children - claimed
    )
