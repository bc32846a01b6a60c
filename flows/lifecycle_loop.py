"""Entry point of the full lifecycle flow (not named lifecycle.py: it would shadow the package)."""

from lifecycle.orchestration.flows_lifecycle import lifecycle_flow

__all__ = ["lifecycle_flow"]
