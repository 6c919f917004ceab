"""``/api/v1/dashboard/*``: the dashboard's figures for the caller's scope, cached in Redis for 30 s.

Equal scopes share cache entries (every executive sees the same overview); orchestration drops them when
the marts change (:func:`api.cache.invalidate_dashboards`).
"""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from typing import Literal

import orjson
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from api.cache import dashboard_key
from api.deps import ReadScope
from api.security import Scope
from api.services import dashboards
from api.services.warehouse import json_default

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])


@dataclass
class Dashboard:
    """One computed dashboard as it is cached: its ETag and its gzip-compressed JSON (compressed once, when
    computed, not on every answer)."""

    etag: bytes
    gzipped: bytes

    def encode(self) -> bytes:
        return self.etag + b"\n" + self.gzipped

    @classmethod
    def decode(cls, value: bytes) -> Dashboard:
        etag, _, gzipped = value.partition(b"\n")
        return cls(etag, gzipped)

    @classmethod
    def of(cls, data: dict) -> Dashboard:
        body = orjson.dumps(data, default=json_default)
        return cls(b'W/"' + hashlib.sha1(body).hexdigest()[:20].encode() + b'"', gzip.compress(body, compresslevel=6))

    def body(self) -> bytes:
        return gzip.decompress(self.gzipped)

    def data(self) -> dict:
        return orjson.loads(self.body())


async def cached_dashboard(app, scope: Scope, name: str, params: dict) -> tuple[Dashboard, bool]:
    """One dashboard for a scope: from the cache, or computed and stored (unless the marts were invalidated
    meanwhile). Returns (the dashboard, whether it came from the cache)."""
    store, settings, metrics = app.state.store, app.state.settings, app.state.metrics
    compute = dashboards.DASHBOARDS[name]
    if settings.api_cache_ttl <= 0:  # caching off
        metrics.cache.labels("off").inc()
        return Dashboard.of(await run_in_threadpool(compute, scope, **params, settings=settings)), False
    key = dashboard_key(scope.key, name, params)
    value = await store.get(key)
    if value is not None:
        metrics.cache.labels("hit").inc()
        return Dashboard.decode(value), True
    metrics.cache.labels("miss").inc()
    generation = await store.generation()
    dashboard = Dashboard.of(await run_in_threadpool(compute, scope, **params, settings=settings))
    await store.set_if_generation(key, dashboard.encode(), settings.api_cache_ttl, generation)
    return dashboard, False


async def _answer(request: Request, scope: Scope, name: str, params: dict) -> Response:
    dashboard, hit = await cached_dashboard(request.app, scope, name, params)
    headers = {"X-Cache": "hit" if hit else "miss", "ETag": dashboard.etag.decode(), "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(dashboard.gzipped, media_type="application/json", headers=headers)
    return Response(dashboard.body(), media_type="application/json", headers=headers)


@router.get("/overview", summary="Headline figures: bookings, billings, win rate, pipeline, receivables")
async def overview(request: Request, scope: ReadScope,
                   period: Literal["month", "quarter", "year"] = Query("quarter")) -> Response:
    return await _answer(request, scope, "overview", {"period": period})


@router.get("/pipeline", summary="Open pipeline by stage and forecast category, closing this quarter, stalled deals")
async def pipeline(request: Request, scope: ReadScope) -> Response:
    return await _answer(request, scope, "pipeline", {})


@router.get("/orders", summary="Open orders by status, bookings by month, order aging, recent orders")
async def orders(request: Request, scope: ReadScope) -> Response:
    return await _answer(request, scope, "orders", {})


@router.get("/customers", summary="Customers by health, top customers, customers at risk")
async def customers(request: Request, scope: ReadScope) -> Response:
    return await _answer(request, scope, "customers", {})


@router.get("/products", summary="Top products, revenue by category, items low on stock")
async def products(request: Request, scope: ReadScope) -> Response:
    return await _answer(request, scope, "products", {})
