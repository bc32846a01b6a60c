"""Entry point of the monitor deployment; the flow's code is in lifecycle.orchestration."""

from lifecycle.orchestration.flows_monitor import monitor_flow

__all__ = ["monitor_flow"]
