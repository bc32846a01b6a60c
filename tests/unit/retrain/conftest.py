"""Fixtures of the retrain tests: the same reference period and batches the monitor tests use."""

from tests.unit.monitor.conftest import arrival, batch, params, reference

__all__ = ["arrival", "batch", "params", "reference"]
