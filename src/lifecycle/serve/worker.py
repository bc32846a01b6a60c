"""One background thread behind a condition: what the prediction log and the shadow share."""

from __future__ import annotations

import threading


class Worker:
    """A daemon thread running `_loop`, woken through `_cond`, told to end by `_closed`.

    Subclasses write `_loop` (return once `_closed` is set) and what to do with the work left
    after `_halt`: nothing queued is ever dropped by this class.
    """

    thread_name = "worker"

    def __init__(self) -> None:
        """Nothing starts here: `start` launches the thread."""
        self._cond = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the background thread."""
        self._thread = threading.Thread(target=self._loop, name=self.thread_name, daemon=True)
        self._thread.start()

    def _halt(self) -> None:
        """Tell the thread to end, wake it, and wait until it has."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _loop(self) -> None:
        """The thread's work, until `_closed` is set."""
        raise NotImplementedError
