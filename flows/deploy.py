"""Create the work pool and the deployments on PREFECT_API_URL's server (or the local one).

Run: `uv run python flows/deploy.py`, then `uv run prefect worker start --pool lifecycle-process`.
"""

from lifecycle.orchestration.deploy import deploy_all
from lifecycle.orchestration.runtime import setup
from lifecycle.orchestration.server import use_server


def main() -> None:
    """Deploy from the project root (LIFECYCLE_HOME or the current folder)."""
    params, paths = setup(None)
    server = use_server(paths)
    for name, deployment_id in deploy_all(params, paths).items():
        print(f"deployment {name}: {deployment_id}")
    print(f"work pool: {params.orchestration.work_pool} (start a worker to run them)")
    print(f"Prefect UI: {server.ui_url}/deployments")


if __name__ == "__main__":
    main()
