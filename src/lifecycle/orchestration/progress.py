"""Progress on stderr for long steps: which step, n of N, elapsed (rich, already a dependency).

Shown only to a person: off when stderr is not a terminal, under CI (`CI=true`) or with
`--quiet`, and always on stderr, so the JSON and tables on stdout stay machine-readable.
While a bar is live, Prefect's console log lines are printed above it (not through it).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from lifecycle.settings import get_settings

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

# Prefect's loggers of flow and task runs: their records name the run that is going on
FLOW_LOGGER, TASK_LOGGER = "prefect.flow_runs", "prefect.task_runs"


def enabled(quiet: bool = False) -> bool:
    """A bar only for a person at a terminal: not with --quiet, not under CI, not when piped."""
    return not quiet and not get_settings().ci and sys.stderr.isatty()


class Steps:
    """One bar: a description, done of total (or an open count), elapsed time; no-op when off."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        """The live bar and its task, or (None, None) when progress is off."""
        self._progress, self._task = progress, task

    @property
    def live(self) -> bool:
        """Whether a bar is shown."""
        return self._progress is not None

    @property
    def console(self) -> Any:
        """The console the bar draws on (None when off): print through it to print above it."""
        return self._progress.console if self._progress is not None else None

    def show(self, description: str) -> None:
        """What is going on now."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=description)

    def advance(self, description: str | None = None) -> None:
        """One more step done (and, optionally, what comes next)."""
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task)
            if description is not None:
                self._progress.update(self._task, description=description)


_current: list[Steps] = []


def current() -> Steps:
    """The bar of the command running in this process, or a silent one."""
    return _current[-1] if _current else Steps(None, None)


@contextmanager
def steps(title: str, total: int | None = None, quiet: bool = False) -> Iterator[Steps]:
    """A bar on stderr for the block (a silent Steps when progress is off)."""
    if not enabled(quiet):
        yield Steps(None, None)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    columns: list[Any] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    columns.append(TimeElapsedColumn())
    # stdout stays as it is: a redirect would send the command's output to the bar's stderr
    console = Console(stderr=True)
    with Progress(*columns, console=console, transient=True, redirect_stdout=False) as progress:
        bar = Steps(progress, progress.add_task(title, total=total))
        _current.append(bar)
        try:
            yield bar
        finally:
            _current.remove(bar)


def candidates(futures: Sequence[Any], names: Sequence[str]) -> list[Any]:
    """The futures' results in order, the bar naming "candidate k of N" as each is in (a
    failure raises at once: the flow ends the siblings' MLflow runs)."""
    bar, total, out = current(), len(futures), []
    for k, (future, name) in enumerate(zip(futures, names, strict=True), start=1):
        bar.show(f"train: candidate {k} of {total} ({name}) fitting")
        out.append(future.result())
    bar.show(f"train: {total} of {total} candidates fitted")
    return out


@contextmanager
def _prefect_above(bar: Steps) -> Iterator[None]:
    """Prefect's console handlers print through the bar's console (above it) while it is live."""
    swapped: list[tuple[Any, Any]] = []
    if bar.console is not None:
        for name in ("prefect", FLOW_LOGGER, TASK_LOGGER):
            for handler in logging.getLogger(name).handlers:
                if hasattr(handler, "console"):
                    swapped.append((handler, handler.console))
                    handler.console = bar.console
    try:
        yield
    finally:
        for handler, console in swapped:
            handler.console = console


class FlowSteps(logging.Handler):
    """Follows Prefect's flow and task run logs: the bar names the flow and task running now."""

    def __init__(self, bar: Steps, prefix: str = "") -> None:
        """Report into this bar, each description after the prefix."""
        super().__init__(logging.INFO)
        self.bar, self.prefix = bar, prefix
        self.flow = ""
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        """A subflow that begins is the next step; a task names what it is doing."""
        message = record.getMessage()
        flow = getattr(record, "flow_name", None)
        task = getattr(record, "task_name", None)
        if flow and message.startswith("Beginning") and flow != self.flow:
            self.count += 1
            self.flow = f"{self.prefix}{self.count}. {flow}"
            self.bar.show(self.flow)
        elif task and self.flow:
            self.bar.show(f"{self.flow} › {task}")


@contextmanager
def follow_flows(bar: Steps, prefix: str = "") -> Iterator[None]:
    """Name each flow and task run in this process on the bar (call once Prefect is imported)."""
    if not bar.live:
        yield
        return
    handler = FlowSteps(bar, prefix)
    loggers = [logging.getLogger(FLOW_LOGGER), logging.getLogger(TASK_LOGGER)]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        with _prefect_above(bar):
            yield
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
