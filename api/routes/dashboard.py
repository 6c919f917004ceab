"""``/api/v1/dashboard/*``: the dashboard's figures for the caller's scope, cached in Redis for 30 s.

Equal scopes share cache entries (every executive sees the same overview); orchestration drops them when
the marts change (:func:`api.cache.invalidate_dashboards`).

Each answer is the figures of :mod:`api.services.dashboards` plus, at the end of this file, what the web
dashboard (``dashboards/``) shows beyond them: bookings month- and quarter-to-date against the same stretch
last year, orders today, quota attainment and a bookings trend (overview); the stage funnel, slipping deals
and the win-rate trend (pipeline); the status-by-age heat map (orders); concentration (customers); category
trends and stock against open orders (products).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import hashlib
import logging
import time
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
from api.services.dashboards import period_bounds
from api.services.warehouse import json_default, reader
from scc.config import Settings, today
from scc.publish import refresh_status

router = APIRouter(prefix="/api/v1/dashboard", tags=["dashboard"])
log = logging.getLogger("scc.api.dashboard")


@dataclass
class Dashboard:
    """One computed dashboard as it is cached: its ETag, until when it is fresh (epoch seconds), and its
    gzip-compressed JSON (compressed once, when computed, not on every answer)."""

    etag: bytes
    gzipped: bytes
    fresh_until: float = 0.0

    def encode(self) -> bytes:
        return f"{self.fresh_until:.3f}".encode() + b"\n" + self.etag + b"\n" + self.gzipped

    @classmethod
    def decode(cls, value: bytes) -> Dashboard:
        fresh_until, etag, gzipped = value.split(b"\n", 2)
        return cls(etag, gzipped, float(fresh_until))

    @classmethod
    def of(cls, data: dict, fresh_for: float = 0.0) -> Dashboard:
        body = orjson.dumps(data, default=json_default)
        return cls(b'W/"' + hashlib.sha1(body).hexdigest()[:20].encode() + b'"', gzip.compress(body, compresslevel=6),
                   time.time() + fresh_for)

    def body(self) -> bytes:
        return gzip.decompress(self.gzipped)

    def data(self) -> dict:
        return orjson.loads(self.body())


async def cached_dashboard(app, scope: Scope, name: str, params: dict) -> tuple[Dashboard, str]:
    """One dashboard for a scope and how it was found: ``hit``, ``stale``, ``miss`` or ``off`` (no cache).

    Fresh for ``SCC_API_CACHE_TTL`` seconds; after that, for ``SCC_API_CACHE_STALE_SECONDS`` more, the cached
    figures are still answered at once while one recomputation runs in the background (stale-while-
    revalidate). That is safe because the marts change only through a refresh, which drops the entries it
    affects straight away: a stale entry differs from a fresh one only by the passing of the clock.
    """
    store, settings, metrics = app.state.store, app.state.settings, app.state.metrics
    key = dashboard_key(scope.key, name, params)
    if settings.api_cache_ttl <= 0:  # caching off
        metrics.cache.labels("off").inc()
        flight = f"{key}@{await store.generation()}"
        return await _single_flight(app, flight, lambda: _compute_dashboard(app, scope, name, params)), "off"
    value = await store.get(key)
    if value is not None:
        dashboard = Dashboard.decode(value)
        if time.time() < dashboard.fresh_until:
            metrics.cache.labels("hit").inc()
            return dashboard, "hit"
    # A computation started before the marts were refreshed must not answer requests made after it: the
    # flights are told apart by the cache's generation, which every refresh moves on.
    generation = await store.generation()
    flight = f"{key}@{generation}"

    async def compute_and_store() -> Dashboard:
        dashboard = await _compute_dashboard(app, scope, name, params)
        keep = settings.api_cache_ttl + max(0, settings.api_cache_stale_seconds)
        await store.set_if_generation(key, dashboard.encode(), keep, generation)
        return dashboard

    if value is not None:
        metrics.cache.labels("stale").inc()
        # One worker recomputes it (a claim in the store), in the background: this answer does not wait.
        claim_for = max(5, settings.api_cache_ttl)
        if flight in app.state.dashboard_flights or await store.claim("scc:revalidate:" + flight, seconds=claim_for):
            _start_flight(app, flight, compute_and_store)
        return dashboard, "stale"
    metrics.cache.labels("miss").inc()
    return await _single_flight(app, flight, compute_and_store), "miss"


async def _compute_dashboard(app, scope: Scope, name: str, params: dict) -> Dashboard:
    app.state.metrics.computations.labels(name).inc()
    data = await run_in_threadpool(_compute(name), scope, **params, settings=app.state.settings)
    if name != "insights":
        # When the figures are from, and whether the latest refresh failed (scc.publish): the dashboard
        # says "figures as of 09:12; the latest refresh failed". Both publish and failure drop the cache.
        data = {**data, "refresh": refresh_status(app.state.settings)}
    return Dashboard.of(data, fresh_for=app.state.settings.api_cache_ttl)


def _start_flight(app, key: str, work) -> asyncio.Task:
    flights: dict[str, asyncio.Task] = app.state.dashboard_flights
    flight = flights.get(key)
    if flight is None:
        flight = asyncio.ensure_future(work())
        flights[key] = flight

        def landed(task: asyncio.Task) -> None:
            flights.pop(key, None)
            if not task.cancelled() and task.exception() is not None:
                log.warning("could not compute the dashboard %s: %s", key, task.exception())

        flight.add_done_callback(landed)
    return flight


async def _single_flight(app, key: str, work) -> Dashboard:
    """Run ``work()`` once for every request of the same dashboard and scope that arrives while it runs.

    Right after the marts refresh every open dashboard asks at once; without this each would compute the
    same figures (a stampede on the warehouse). Nothing is kept once the work is done: it is not a cache.
    A request that goes away does not cancel the work the others wait for.
    """
    return await asyncio.shield(_start_flight(app, key, work))


WARM_DASHBOARDS = {"overview": {"period": "quarter"}, "pipeline": {}, "orders": {}, "customers": {}, "products": {},
                   "insights": {}}


async def warm_dashboards(app, scopes: list[Scope]) -> None:
    """Compute the dashboards (and insights) of ``scopes`` before anyone asks: at start-up, after a refresh of
    the marts. They go to the shared cache, so one worker does it per refresh (a claim in the store)."""
    store = app.state.store
    if not await store.claim(f"scc:warm:{await store.generation()}", seconds=max(5, app.state.settings.api_cache_ttl)):
        return
    try:
        for scope in scopes:
            for name, params in WARM_DASHBOARDS.items():
                await cached_dashboard(app, scope, name, params)
    except Exception as error:  # noqa: BLE001 - warming is a favour: the first visit computes instead
        log.info("could not warm the dashboards: %s", error)
        return
    app.state.metrics.warm_ups.inc()


async def cached_answer(request: Request, scope: Scope, name: str, params: dict) -> Response:
    dashboard, found = await cached_dashboard(request.app, scope, name, params)
    headers = {"X-Cache": "miss" if found == "off" else found, "ETag": dashboard.etag.decode(), "Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(dashboard.gzipped, media_type="application/json", headers=headers)
    return Response(dashboard.body(), media_type="application/json", headers=headers)


@router.get("/overview", summary="Headline figures: bookings, billings, win rate, pipeline, receivables")
async def overview(request: Request, scope: ReadScope,
                   period: Literal["month", "quarter", "year"] = Query("quarter")) -> Response:
    return await cached_answer(request, scope, "overview", {"period": period})


@router.get("/pipeline", summary="Open pipeline by stage and forecast category, closing this quarter, stalled deals")
async def pipeline(request: Request, scope: ReadScope) -> Response:
    return await cached_answer(request, scope, "pipeline", {})


@router.get("/orders", summary="Open orders by status, bookings by month, order aging, recent orders")
async def orders(request: Request, scope: ReadScope) -> Response:
    return await cached_answer(request, scope, "orders", {})


@router.get("/customers", summary="Customers by health, top customers, customers at risk")
async def customers(request: Request, scope: ReadScope) -> Response:
    return await cached_answer(request, scope, "customers", {})


@router.get("/products", summary="Top products, revenue by category, items low on stock")
async def products(request: Request, scope: ReadScope) -> Response:
    return await cached_answer(request, scope, "products", {})


# --- what the web dashboard shows beyond api.services.dashboards -------------------------------------


def _year_back(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _month_back(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _money(value) -> float:
    return round(float(value or 0), 2)


def _ratio(numerator, denominator) -> float | None:
    return round(float(numerator) / float(denominator), 4) if denominator else None


def overview_extra(scope: Scope, period: str = "quarter", settings: Settings | None = None) -> dict:
    day = today()
    where, params = scope.where()
    month_start, quarter_start = day.replace(day=1), period_bounds("quarter", day)[0]
    first_month = _month_back(month_start, 23)  # this month and the 11 before, and the same months a year earlier
    with reader(settings) as r:
        def bookings(start: dt.date, end: dt.date) -> float:
            return _money(r.value(f"SELECT sum(total_amount) FROM marts.fct_orders WHERE {where} "
                                  f"AND status_group <> 'cancelled' AND order_date BETWEEN ? AND ?", [*params, start, end]))

        figures = {
            "bookings_mtd": bookings(month_start, day),
            "bookings_mtd_last_year": bookings(_year_back(month_start), _year_back(day)),
            "bookings_qtd": bookings(quarter_start, day),
            "bookings_qtd_last_year": bookings(_year_back(quarter_start), _year_back(day)),
        }
        today_row = r.one(f"SELECT count(*) AS n, sum(total_amount) AS amount FROM marts.fct_orders WHERE {where} "
                          f"AND status_group <> 'cancelled' AND order_date = ?", [*params, day])
        pending = r.one(f"SELECT count(*) AS n, sum(total_amount) AS amount FROM marts.fct_orders WHERE {where} "
                        f"AND status_group = 'pending'", params)
        won = r.value(f"SELECT sum(amount) FROM marts.fct_opportunities WHERE {where} AND is_won "
                      f"AND close_date BETWEEN ? AND ?", [*params, quarter_start, day])
        quota = r.value(f"SELECT sum(quota_amount) FROM marts.fct_quotas WHERE {where} AND quarter_start_date = ?",
                        [*params, quarter_start])
        monthly = r.all(f"SELECT CAST(date_trunc('month', order_date) AS DATE) AS month, sum(total_amount) AS bookings "
                        f"FROM marts.fct_orders WHERE {where} AND status_group <> 'cancelled' "
                        f"AND order_date BETWEEN ? AND ? GROUP BY 1", [*params, first_month, day])
    by_month = {str(row["month"])[:7]: _money(row["bookings"]) for row in monthly}
    trend = []
    for back in range(11, -1, -1):
        month = _month_back(month_start, back)
        trend.append({"month": month.isoformat(), "bookings": by_month.get(month.isoformat()[:7], 0.0),
                      "bookings_last_year": by_month.get(_year_back(month).isoformat()[:7], 0.0)})
    # this month is not over: say so, with the same days a year before to compare it with (not a cliff)
    trend[-1].update({"partial": True, "through": day.isoformat(),
                      "bookings_last_year_to_date": figures["bookings_mtd_last_year"]})

    def window(start: dt.date, end: dt.date) -> dict:
        return {"start": start.isoformat(), "end": end.isoformat()}

    return {
        # the stretch of days each comparison covers, so every card can name its window
        "windows": {
            "month_to_date": window(month_start, day),
            "month_to_date_last_year": window(_year_back(month_start), _year_back(day)),
            "quarter_to_date": window(quarter_start, day),
            "quarter_to_date_last_year": window(_year_back(quarter_start), _year_back(day)),
        },
        "metrics": {
            **figures,
            "orders_today": int(today_row["n"]),
            "bookings_today": _money(today_row["amount"]),
            "pending_orders": int(pending["n"]),
            "pending_order_value": _money(pending["amount"]),
            "closed_won_qtd": _money(won),
            "quota_qtd": _money(quota),
            "quota_attainment": _ratio(won or 0, quota),
        },
        "bookings_trend": trend,
    }


def pipeline_extra(scope: Scope, settings: Settings | None = None) -> dict:
    day = today()
    where, params = scope.where()
    first_quarter = _month_back(period_bounds("quarter", day)[0], 21)  # this quarter and the 7 before
    with reader(settings) as r:
        funnel = r.all(
            f"SELECT stage, avg(probability) AS probability, count(*) AS opportunities, "
            f"coalesce(sum(amount), 0) AS amount FROM marts.fct_opportunities WHERE {where} AND NOT is_closed "
            f"GROUP BY stage ORDER BY avg(probability), stage", params)
        slipping = r.all(
            f"SELECT o.opportunity_id, o.opportunity_name, c.customer_name, o.rep_id, o.territory, o.stage, o.amount, "
            f"o.first_close_date, o.close_date, o.close_date_pushes FROM marts.fct_opportunities o "
            f"LEFT JOIN marts.dim_customers c ON c.customer_id = o.customer_id "
            f"WHERE {scope.where('o')[0]} AND NOT o.is_closed AND (o.close_date_pushes > 0 OR o.is_slipped) "
            f"ORDER BY o.close_date_pushes DESC, o.amount DESC NULLS LAST, o.opportunity_id LIMIT 10",
            scope.where("o")[1])
        slipping_count = r.value(
            f"SELECT count(*) FROM marts.fct_opportunities WHERE {where} AND NOT is_closed "
            f"AND (close_date_pushes > 0 OR is_slipped)", params)
        quarters = r.all(
            f"SELECT CAST(date_trunc('quarter', close_date) AS DATE) AS quarter, "
            f"sum(CASE WHEN is_won THEN 1 ELSE 0 END) AS won, sum(CASE WHEN is_won THEN 0 ELSE 1 END) AS lost "
            f"FROM marts.fct_opportunities WHERE {where} AND is_closed AND close_date BETWEEN ? AND ? "
            f"GROUP BY 1 ORDER BY 1", [*params, first_quarter, day])
    for row in funnel:
        row["probability"] = round(float(row["probability"] or 0), 1)
    trend = [{"quarter": str(q["quarter"]), "won": int(q["won"]), "lost": int(q["lost"]),
              "win_rate": _ratio(q["won"], int(q["won"]) + int(q["lost"]))} for q in quarters]
    return {"funnel": funnel, "slipping_deals": slipping, "slipping_deals_count": int(slipping_count or 0),
            "win_rate_trend": trend}


AGE_BUCKETS = ("0-7", "8-30", "31-60", "61-90", "90+")


def orders_extra(scope: Scope, settings: Settings | None = None) -> dict:
    day = today()
    where, params = scope.where()
    with reader(settings) as r:
        cells = r.all(
            f"SELECT status, CASE WHEN days_open <= 7 THEN '0-7' WHEN days_open <= 30 THEN '8-30' "
            f"WHEN days_open <= 60 THEN '31-60' WHEN days_open <= 90 THEN '61-90' ELSE '90+' END AS age_days, "
            f"count(*) AS orders, coalesce(sum(total_amount), 0) AS amount FROM marts.fct_orders "
            f"WHERE {where} AND status_group IN ('pending', 'partial') GROUP BY 1, 2 ORDER BY 1, 2", params)
        recent = r.all(
            f"SELECT status, count(*) AS orders, coalesce(sum(total_amount), 0) AS amount FROM marts.fct_orders "
            f"WHERE {where} AND order_date > ? GROUP BY status ORDER BY count(*) DESC, status",
            [*params, day - dt.timedelta(days=90)])
    return {"aging_heatmap": {"buckets": list(AGE_BUCKETS), "cells": cells}, "status_last_90d": recent}


def customers_extra(scope: Scope, settings: Settings | None = None) -> dict:
    day = today()
    where, params = scope.where("o")
    with reader(settings) as r:
        revenue = r.all(
            f"SELECT o.customer_id, c.customer_name, sum(o.total_amount) AS revenue FROM marts.fct_orders o "
            f"LEFT JOIN marts.dim_customers c ON c.customer_id = o.customer_id WHERE {where} "
            f"AND o.status_group <> 'cancelled' AND o.order_date > ? GROUP BY o.customer_id, c.customer_name "
            f"HAVING sum(o.total_amount) > 0 ORDER BY revenue DESC, o.customer_id",
            [*params, day - dt.timedelta(days=365)])
    total = sum(float(row["revenue"]) for row in revenue)
    cumulative, pareto = 0.0, []
    for row in revenue[:20]:
        cumulative += float(row["revenue"])
        pareto.append({"customer_id": row["customer_id"], "customer_name": row["customer_name"],
                       "revenue": _money(row["revenue"]), "share": _ratio(row["revenue"], total),
                       "cumulative_share": _ratio(cumulative, total)})

    def top(n: int) -> float | None:
        return _ratio(sum(float(row["revenue"]) for row in revenue[:n]), total)

    return {"concentration": {
        "since": (day - dt.timedelta(days=364)).isoformat(), "customers": len(revenue), "revenue": _money(total),
        "top_1_share": top(1), "top_5_share": top(5), "top_10_share": top(10),
        "hhi": round(sum((float(row["revenue"]) / total) ** 2 for row in revenue), 4) if total else None,
        "pareto": pareto}}


def products_extra(scope: Scope, settings: Settings | None = None) -> dict:
    day = today()
    where, params = scope.where("l")
    first_month = _month_back(day.replace(day=1), 11)
    with reader(settings) as r:
        trend = r.all(
            f"SELECT CAST(date_trunc('month', l.order_date) AS DATE) AS month, p.category, sum(l.amount) AS revenue "
            f"FROM marts.fct_order_lines l JOIN marts.dim_products p ON p.product_id = l.product_id "
            f"JOIN marts.fct_orders o ON o.order_id = l.order_id WHERE {where} AND o.status_group <> 'cancelled' "
            f"AND l.order_date BETWEEN ? AND ? GROUP BY 1, 2 ORDER BY 1, 2", [*params, first_month, day])
        stock = r.all(
            f"SELECT p.product_id, p.sku, p.product_name, p.category, p.quantity_on_hand, p.quantity_available, "
            f"sum(l.quantity - coalesce(l.quantity_fulfilled, 0)) AS open_quantity, count(DISTINCT l.order_id) AS open_orders "
            f"FROM marts.fct_order_lines l JOIN marts.fct_orders o ON o.order_id = l.order_id "
            f"JOIN marts.dim_products p ON p.product_id = l.product_id "
            f"WHERE {where} AND o.status_group IN ('pending', 'partial') "
            f"GROUP BY p.product_id, p.sku, p.product_name, p.category, p.quantity_on_hand, p.quantity_available "
            f"HAVING sum(l.quantity - coalesce(l.quantity_fulfilled, 0)) > 0 "
            f"ORDER BY coalesce(p.quantity_on_hand, 0) * 1.0 / sum(l.quantity - coalesce(l.quantity_fulfilled, 0)), "
            f"p.product_id LIMIT 10", params)
        stock_count = r.value(
            f"SELECT count(DISTINCT l.product_id) FROM marts.fct_order_lines l JOIN marts.fct_orders o "
            f"ON o.order_id = l.order_id WHERE {where} AND o.status_group IN ('pending', 'partial') "
            f"AND l.quantity - coalesce(l.quantity_fulfilled, 0) > 0", params)
    for row in trend:
        row["month"] = str(row["month"])
    for row in stock:
        row["shortfall"] = max(0.0, float(row["open_quantity"]) - float(row["quantity_on_hand"] or 0))
    return {"category_trend": trend, "stock_vs_open_orders": stock, "stock_vs_open_orders_count": int(stock_count or 0)}


EXTRAS = {"overview": overview_extra, "pipeline": pipeline_extra, "orders": orders_extra,
          "customers": customers_extra, "products": products_extra}


def _compute(name: str):
    """The function computing one dashboard: its figures from api.services.dashboards plus EXTRAS (or, for
    ``insights``, what GET /api/v1/insights answers: cached like a dashboard, shared by every worker)."""
    if name == "insights":
        from api.services.ask import insights

        return lambda scope, settings=None: insights(scope, settings)
    base, extra = dashboards.DASHBOARDS[name], EXTRAS.get(name)
    if extra is None:
        return base

    def compute(scope: Scope, settings: Settings | None = None, **params) -> dict:
        data = base(scope, settings=settings, **params)
        more = extra(scope, settings=settings, **params)
        if "metrics" in more:
            data["metrics"] = {**data.get("metrics", {}), **more.pop("metrics")}
        return {**data, **more}

    return compute


def compute_figures(name: str, scope: Scope, settings: Settings | None = None, **params) -> dict:
    """One dashboard's figures for ``scope``, computed now (no cache): what its endpoint answers."""
    return _compute(name)(scope, settings=settings, **params)
