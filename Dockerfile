# Sales Command Center: one image for the API (`scc serve`, the default), the Dagster webserver and daemon, and
# the command line (`scc sync`, `scc build`, `scc audit archive`). Built in two stages: the locked dependencies
# (uv.lock, exactly) and the project into a virtual environment, then only that environment and the source into
# a slim runtime that runs as an unprivileged user. No secrets are baked in: every setting comes from the
# environment at run time (README, "Deploying").
#
#   docker build -t sales-command-center .
#   docker run -p 8000:8000 -e SCC_JWT_SECRET=... -e SCC_APP_DATABASE_URL=postgresql://... sales-command-center

ARG PYTHON_VERSION=3.11

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.10 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# the dependencies first, from the lock file alone: this layer is rebuilt only when uv.lock changes
COPY pyproject.toml uv.lock README.md ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --no-install-project
# then the project: its packages, the dbt project, the dashboard's static files and the deployment files
COPY scc/ scc/
COPY emulators/ emulators/
COPY pipelines/ pipelines/
COPY agents/ agents/
COPY plugins/ plugins/
COPY api/ api/
COPY dashboards/ dashboards/
COPY dagster_project/ dagster_project/
COPY models/ models/
COPY macros/ macros/
COPY dbt_project.yml profiles.yml ./
COPY deploy/ deploy/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="Sales Command Center" \
      org.opencontainers.image.description="Salesforce and NetSuite into a governed warehouse, a live dashboard and agents that answer in plain words" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 scc \
    && useradd --system --uid 10001 --gid scc --home-dir /app --no-create-home --shell /usr/sbin/nologin scc \
    && mkdir -p /data \
    && chown scc:scc /data
WORKDIR /app
COPY --from=build --chown=scc:scc /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    SCC_DATA_DIR=/data \
    SCC_API_HOST=0.0.0.0 \
    SCC_API_PORT=8000 \
    SCC_DAGSTER_HOST=0.0.0.0 \
    DAGSTER_HOME=/data/dagster
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000 3000
# /health answers 200 while the warehouse and the app database answer (a vendor being down is reported, not fatal)
HEALTHCHECK --interval=30s --timeout=10s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('SCC_API_PORT', '8000'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/health', timeout=8).status == 200 else 1)"]
CMD ["scc", "serve"]
