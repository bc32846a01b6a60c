"""Entry point of the lifecycle deployment; the flow's code is in lifecycle.orchestration."""

from lifecycle.orchestration.flows_lifecycle import lifecycle_flow

__all__ = ["lifecycle_flow"]
