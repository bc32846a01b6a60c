"""Entry point of the retrain deployment; the flow's code is in lifecycle.orchestration."""

from lifecycle.orchestration.flows_retrain import retrain_flow

__all__ = ["retrain_flow"]
