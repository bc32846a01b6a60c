"""Entry point of the retention deployment; the flow's code is in lifecycle.orchestration."""

from lifecycle.orchestration.flows_privacy import retention_flow

__all__ = ["retention_flow"]
