"""Create the work pool and every use case's deployments on PREFECT_API_URL's server (or the
local one): the default use case's (train, ...) and each use_cases/<name>/'s (train@<name>, ...).

Run: `uv run python flows/deploy.py`, then `uv run prefect worker start --pool lifecycle-process`.
"""

from lifecycle.orchestration.deploy import deploy_every_use_case
from lifecycle.orchestration.runtime import setup
from lifecycle.orchestration.server import use_server


def main() -> None:
    """Deploy from the project root (LIFECYCLE_HOME or the current folder)."""
    params, paths = setup(None)
    server = use_server(paths)
    for use_case, made in deploy_every_use_case(params, paths.root).items():
        for name, deployment_id in made.items():
            print(f"deployment {name} ({use_case}): {deployment_id}")
    print(f"work pool: {params.orchestration.work_pool} (start a worker to run them)")
    print(f"Prefect UI: {server.ui_url}/deployments")


if __name__ == "__main__":
    main()
