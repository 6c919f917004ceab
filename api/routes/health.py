"""``GET /health``: a deep check of everything the API depends on."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import APIRouter, Request
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from api.services.warehouse import reader

router = APIRouter(tags=["health"])
_cache: dict = {}


def _warehouse(settings) -> dict:
    with reader(settings, timeout=2.0) as r:
        orders = r.value("SELECT count(*) FROM marts.fct_orders")
    return {"ok": True, "orders": orders}


def _app_db(db) -> dict:
    with db.session() as session:
        session.execute(text("SELECT 1"))
    return {"ok": True, "dialect": db.engine.dialect.name}


async def _vendors(settings) -> dict:
    out = {}
    targets = {"netsuite": settings.netsuite_url, "salesforce": settings.salesforce_url}
    async with httpx.AsyncClient(timeout=3.0, trust_env=False, verify=settings.salesforce_verify) as client:
        for name, url in targets.items():
            probe = url.removesuffix("/services/rest") + "/__admin/health" if settings.demo_mode else url
            try:
                response = await client.get(probe)
                out[name] = {"ok": response.status_code < 500, "url": url, "status": response.status_code}
            except httpx.HTTPError as error:
                out[name] = {"ok": False, "url": url, "error": type(error).__name__}
    return out


async def _check(name: str, coroutine) -> tuple[str, dict]:
    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(coroutine, timeout=5)
    except Exception as error:  # noqa: BLE001 - a failed check is reported, not raised
        result = {"ok": False, "error": f"{type(error).__name__}: {str(error)[:200]}"}
    result["ms"] = round(1000 * (time.perf_counter() - started), 1)
    return name, result


@router.get("/health", summary="Deep health: warehouse, app database, Redis, Salesforce and NetSuite")
async def health(request: Request) -> JSONResponse:
    cached = _cache.get("health")
    if cached and cached[0] > time.monotonic():
        return JSONResponse(cached[1], status_code=200 if cached[1]["status"] != "down" else 503)
    app = request.app
    settings = app.state.settings

    async def redis_check():
        ok = await app.state.store.ping()
        return {"ok": ok, "kind": app.state.store.kind}

    checks = dict(await asyncio.gather(
        _check("warehouse", run_in_threadpool(_warehouse, settings)),
        _check("app_database", run_in_threadpool(_app_db, app.state.db)),
        _check("redis", redis_check()),
        _check("vendors", _vendors(settings)),
    ))
    vendors = checks.pop("vendors")
    if "ok" in vendors and not vendors["ok"]:
        checks["netsuite"] = checks["salesforce"] = vendors
    else:
        vendors.pop("ms", None)
        checks.update(vendors)
    core_ok = checks["app_database"]["ok"] and checks["redis"]["ok"]
    everything_ok = all(c.get("ok") for c in checks.values())
    body = {"status": "ok" if everything_ok else ("degraded" if core_ok else "down"), "checks": checks,
            "demo_mode": settings.demo_mode}
    _cache["health"] = (time.monotonic() + 2.0, body)
    return JSONResponse(body, status_code=200 if core_ok else 503)
