"""Entry point of the ingest deployment; the flow's code is in lifecycle.orchestration."""

from lifecycle.orchestration.flows_ingest import ingest_flow

__all__ = ["ingest_flow"]
