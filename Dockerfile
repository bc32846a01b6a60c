# The serving image: `lifecycle serve` on the locked environment, as a non-root user.
# Build: docker build -t lifecycle-serve .
# Run:   docker run -p 8000:8000 -e LIFECYCLE_ADMIN_TOKEN=... \
#          -e MLFLOW_TRACKING_URI=postgresql://... -v "$PWD/data:/app/data" lifecycle-serve
FROM python:3.11-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.9.2 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
WORKDIR /app
# dependencies first (cached while only the code changes), exactly as uv.lock pins them
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY src ./src
COPY params.yaml ./
RUN uv sync --frozen --no-dev

FROM python:3.11-slim
RUN groupadd --system --gid 10001 app && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home app
WORKDIR /app
COPY --from=build --chown=10001:10001 /app /app
ENV PATH="/app/.venv/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    LIFECYCLE_HOME=/app \
    LIFECYCLE_HOST=0.0.0.0 \
    LIFECYCLE_PORT=8000
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('LIFECYCLE_PORT', '8000') + '/health', timeout=2)"]
CMD ["lifecycle", "serve"]
