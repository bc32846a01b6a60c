"""Entry point of the train deployment; the flow's code is in lifecycle.orchestration."""

from lifecycle.orchestration.flows_train import train_flow

__all__ = ["train_flow"]
