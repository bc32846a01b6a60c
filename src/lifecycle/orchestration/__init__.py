"""Prefect drivers of the library: server management, tasks, flows, deployments, Dask runner."""
