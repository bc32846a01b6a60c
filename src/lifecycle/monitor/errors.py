"""The one error the monitor raises, so callers can tell bad input from a bug."""

from __future__ import annotations


class MonitorError(ValueError):
    """A window, reference or option the drift check cannot use, named with what is wrong."""
