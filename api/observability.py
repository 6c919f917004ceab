"""Prometheus metrics of the API and the middleware that keeps them, plus ETags (304 on a match).

With several workers (``scc serve`` sets ``PROMETHEUS_MULTIPROC_DIR``) every worker writes its samples to
that folder and ``/metrics`` sums them up, so one scrape sees the whole server.
"""

from __future__ import annotations

import hashlib
import os
import time

from prometheus_client import (CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram,
                               generate_latest)
from starlette.requests import Request
from starlette.responses import Response


class Metrics:
    def __init__(self):
        self.requests = Counter("scc_api_requests_total", "HTTP requests answered", ["method", "route", "status"])
        self.latency = Histogram(
            "scc_api_request_seconds", "Time to answer an HTTP request", ["method", "route"],
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.cache = Counter("scc_api_dashboard_cache_total", "Dashboard cache lookups", ["result"])
        self.computations = Counter("scc_api_dashboard_computations_total",
                                    "Dashboards computed from the marts (concurrent identical requests share one)",
                                    ["dashboard"])
        self.warm_ups = Counter("scc_api_dashboard_warm_ups_total",
                                "Times the executives' dashboards were computed ahead of the first visit")
        self.rate_limited = Counter("scc_api_rate_limited_total", "Requests refused by the rate limit")
        self.auth_failures = Counter("scc_api_auth_failures_total", "Requests with a missing or invalid token")
        self.websockets = Gauge("scc_api_websocket_clients", "Connected dashboard WebSocket clients",
                                multiprocess_mode="livesum")
        self.pushes = Counter("scc_api_websocket_messages_total", "Messages pushed to WebSocket clients", ["type"])
        self.submissions = Counter("scc_api_netsuite_submissions_total", "Sales order submissions", ["outcome"])
        self.webhooks = Counter("scc_api_webhook_events_total", "Webhook events received", ["vendor", "result"])
        # no labels: always exposed, 0 while healthy (scc_api_requests_total has the routes and statuses)
        self.errors = Counter("scc_api_errors_total", "HTTP requests answered with a server error (5xx)")
        self.warehouse_queries = Histogram(
            "scc_warehouse_query_seconds", "Time of one query of the API on the warehouse's marts", ["backend"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.app_database_queries = Histogram(
            "scc_app_database_query_seconds", "Time of one statement on the app database", ["backend"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
        )


_metrics: Metrics | None = None


def get_metrics() -> Metrics:
    global _metrics
    if _metrics is None:
        _metrics = Metrics()
    return _metrics


def metrics_endpoint(_request: Request) -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        data = generate_latest(registry)
    else:
        registry = REGISTRY
        data = generate_latest()
    from api.platform_metrics import PlatformCollector

    platform = CollectorRegistry()
    platform.register(PlatformCollector(_request.app.state.settings, registry))
    return Response(data + generate_latest(platform), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Counts and times every HTTP request by its route template (never by raw path: bounded labels)."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [500]

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], template, str(status[0])).inc()
            if status[0] >= 500:
                self.metrics.errors.inc()
            self.metrics.latency.labels(scope["method"], template).observe(time.perf_counter() - started)


class ETagMiddleware:
    """A weak ETag on every successful GET; ``If-None-Match`` with the same tag gets 304 and no body.

    Sits inside the gzip middleware, so the tag is of the uncompressed body and holds for either encoding.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        if_none_match = None
        for name, value in scope["headers"]:
            if name == b"if-none-match":
                if_none_match = value.decode("latin-1")
                break
        start: dict | None = None
        chunks: list[bytes] = []

        async def send_wrapper(message):
            nonlocal start
            if message["type"] == "http.response.start":
                if message["status"] != 200:
                    start = None
                    await send(message)
                    return
                start = message
                return
            if message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body"):
                    return
                body = b"".join(chunks)
                headers = [(k, v) for k, v in start["headers"]]
                etag = next((v.decode("latin-1") for k, v in headers if k == b"etag"), None)
                if etag is None:
                    etag = 'W/"' + hashlib.sha1(body).hexdigest()[:20] + '"'
                    headers.append((b"etag", etag.encode("latin-1")))
                if not any(k == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"private, no-cache"))
                if if_none_match and _matches(if_none_match, etag):
                    keep = {b"etag", b"cache-control", b"vary", b"x-cache"}
                    await send({"type": "http.response.start", "status": 304,
                                "headers": [(k, v) for k, v in headers if k in keep]})
                    await send({"type": "http.response.body", "body": b""})
                    return
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, send_wrapper)


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == bare for candidate in if_none_match.split(","))
