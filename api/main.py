"""The Sales Command Center API: ``create_app()`` builds it (``scc serve`` runs it with uvicorn).

OpenAPI at ``/openapi.json``, the interactive docs at ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), their
scripts and styles served from the package fastapi-offline (``/static-offline-docs/``), never a CDN. Every endpoint under ``/api/v1`` and the
``/ws/dashboard`` socket take a bearer token (``POST /api/v1/auth/token``) and are cut to the caller's scope
by one dependency (:func:`api.deps.get_scope`). Responses are gzip-compressed and carry ETags.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi_offline import FastAPIOffline
from starlette.responses import JSONResponse

from api.bodies import BoundedJsonMiddleware, validation_error_handler
from api.cache import make_store, register_local_store
from api.db import database_url, get_database
from api.docs import mount_redoc
from api.observability import ETagMiddleware, MetricsMiddleware, get_metrics, metrics_endpoint
from api.services.warehouse import WarehouseUnavailable
from scc.config import Settings, get_settings

log = logging.getLogger("scc.api")

DESCRIPTION = """Sales Command Center: dashboards, lists, questions in plain words and sales orders into
NetSuite, each cut to the caller's role and scope. Log in with `POST /api/v1/auth/token` (demo users:
exec@, manager@, rep@, finance@scc-demo.example) and use the token as a bearer token."""


def settle_memory() -> None:
    """Move what start-up (and the first warm-up) built out of the garbage collector's sight.

    The app keeps hundreds of thousands of long-lived objects (modules, the agents' catalogue, the semantic
    layer); every full collection would walk them all again, a pause of tens of milliseconds in the middle
    of answering requests. ``gc.freeze`` (Python's own advice for pre-fork servers) puts them aside.
    """
    import gc

    gc.collect()
    gc.freeze()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    from api.security import signing_key

    signing_key(settings)  # fail at start-up, not at the first request, when no JWT secret is set

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        from api.realtime import Hub

        app.state.db = get_database(database_url(settings))
        app.state.store = make_store(settings)
        register_local_store(app.state.store)
        app.state.hub = Hub(app)
        app.state.hub.start()
        from api.routes.documents import archive_periodically

        archiver = asyncio.create_task(archive_periodically(app))  # the audit log's finished days, to storage
        settle_memory()
        try:
            async with app.state.mcp.running():  # the MCP server's transport (api/mcp_server.py)
                yield
        finally:
            archiver.cancel()
            await app.state.hub.stop()
            await app.state.store.close()

    # FastAPIOffline: FastAPI with /docs and /redoc loading Swagger UI and ReDoc from this server (offline too)
    app = FastAPIOffline(title="Sales Command Center API", version="1.0.0", description=DESCRIPTION, lifespan=lifespan,
                         redoc_url=None, swagger_ui_parameters={"validatorUrl": None})
    mount_redoc(app)  # /redoc, its bundle without the one logo it would fetch from a CDN (api/docs.py)
    app.state.settings = settings
    app.state.metrics = get_metrics()
    app.state.dashboard_flights = {}  # dashboards being computed (api.routes.dashboard._single_flight)

    from api.realtime import router as realtime_router
    from api.routes import ask, auth, dashboard, documents, health, lists, transactions, webhooks
    from dashboards import mount_dashboard

    for module in (health, auth, dashboard, lists, transactions, ask, webhooks, documents):
        app.include_router(module.router)
    app.include_router(realtime_router)
    mount_dashboard(app)  # the web dashboard (dashboards/): the page at /, its files under /static/
    app.add_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)
    from api.mcp_server import McpEndpoint

    app.state.mcp = McpEndpoint(app)  # /mcp: the MCP server over streamable HTTP, with the API's bearer tokens
    app.add_route("/mcp", app.state.mcp, methods=["GET", "POST", "DELETE"], include_in_schema=False)

    @app.exception_handler(WarehouseUnavailable)
    async def warehouse_unavailable(_request: Request, error: WarehouseUnavailable):
        return JSONResponse({"detail": str(error)}, status_code=503, headers={"Retry-After": "5"})

    app.add_exception_handler(RequestValidationError, validation_error_handler)  # never echoes the value sent

    app.add_middleware(BoundedJsonMiddleware, settings=settings)  # every JSON body: size, depth, finite numbers
    app.add_middleware(ETagMiddleware)  # inside gzip: tags the uncompressed body
    app.add_middleware(GZipMiddleware, minimum_size=500, compresslevel=6)
    origins = [o.strip() for o in settings.api_cors_origins.split(",") if o.strip()]
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=False,
                           allow_methods=["*"], allow_headers=["Authorization", "Content-Type", "If-None-Match"],
                           expose_headers=["ETag", "Retry-After", "X-Cache"])
    app.add_middleware(MetricsMiddleware, metrics=app.state.metrics)
    return app
