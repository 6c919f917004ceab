"""MCP tool calls against the same calls through the REST API, over both transports.

For each scale: the company synced and built, ``scc serve`` (two workers, Redis) and, beside it, ``scc mcp``
over stdio started by the SDK's own client. One client at a time, calls in turn, after a warm-up:

- ``ask``: ``POST /api/v1/query/ask`` (REST, the baseline) against the MCP tool ``ask`` over streamable HTTP
  (``/mcp`` on the same API) and over stdio, with the same questions;
- ``query_metrics``: the REST API has no metric endpoint, so its baseline is the same metric query compiled
  and run through the guard in this process (what the tool does, without a protocol); then the tool over
  HTTP and stdio;
- the protocol's floor: ``GET /api/v1/auth/me`` against MCP ``tools/list`` over HTTP.

Aim (issue 21): each MCP call within 20 ms of the same call through the REST API.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time

from benchmarks.api import QUESTIONS, Servers
from benchmarks.common import bench_scales, prepare_warehouse, table

TITLE = "MCP tool calls"
METRIC_QUERIES = [
    {"metrics": ["bookings"], "group_by": ["metric_time__quarter"]},
    {"metrics": ["bookings", "orders"], "group_by": ["rep__territory"]},
    {"metrics": ["win_rate"], "group_by": ["rep__region"]},
    {"metrics": ["open_pipeline"], "group_by": ["rep__territory"]},
]


def _stats(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {"n": len(samples), "p50_ms": 1000 * statistics.median(ordered),
            "p95_ms": 1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]}


async def _timed(calls: int, make_call) -> list[float]:
    samples = []
    for i in range(calls):
        started = time.perf_counter()
        await make_call(i)
        samples.append(time.perf_counter() - started)
    return samples


async def _mcp_figures(client, calls: int) -> dict:
    async def ask(i):
        result = await client.call_tool("ask", {"question": QUESTIONS[i % len(QUESTIONS)]})
        assert not result.is_error, result.content

    async def metrics(i):
        result = await client.call_tool("query_metrics", METRIC_QUERIES[i % len(METRIC_QUERIES)])
        assert not result.is_error, result.content

    async def listing(i):
        await client.list_tools(cache_mode="bypass")

    for warm in (ask, metrics):
        await _timed(len(QUESTIONS), warm)
    return {"ask": _stats(await _timed(calls, ask)), "query_metrics": _stats(await _timed(calls, metrics)),
            "tools/list": _stats(await _timed(calls, listing))}


async def _over_http(url: str, token: str, calls: int) -> dict:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
        async with Client(streamable_http_client(url + "/mcp", http_client=http)) as client:
            return await _mcp_figures(client, calls)


async def _over_stdio(token: str, env: dict, calls: int) -> dict:
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(command=sys.executable, args=["-m", "scc", "mcp"],
                                   env={**os.environ, **env, "SCC_MCP_TOKEN": token, "SCC_LOG_LEVEL": "WARNING"})
    async with Client(params, read_timeout_seconds=300) as client:
        return await _mcp_figures(client, calls)


def _rest_figures(url: str, token: str, calls: int, settings) -> dict:
    import httpx

    from agents.catalog import get_catalog
    from agents.guard import run_sql
    from agents.metrics import MetricQuery, compile_query
    from agents.scope import Scope

    def metric(i):
        query = METRIC_QUERIES[i % len(METRIC_QUERIES)]
        run_sql(compile_query(MetricQuery(metrics=query["metrics"], group_by=query["group_by"]), settings),
                Scope.all(), get_catalog(settings), settings=settings)

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120,
                      trust_env=False) as client:
        def ask(i):
            client.post("/api/v1/query/ask", json={"question": QUESTIONS[i % len(QUESTIONS)]}).raise_for_status()

        def me(i):
            client.get("/api/v1/auth/me").raise_for_status()

        out = {}
        for name, work in (("ask", ask), ("query_metrics", metric), ("tools/list", me)):
            for i in range(len(QUESTIONS)):
                work(i)
            samples = []
            for i in range(calls):
                started = time.perf_counter()
                work(i)
                samples.append(time.perf_counter() - started)
            out[name] = _stats(samples)
    return out


def run_scale(scale: float, calls: int) -> tuple[list[list], dict]:
    settings = prepare_warehouse(scale)
    servers = Servers(settings.data_dir)
    try:
        url = servers.start_api()
        token = servers.token()
        env = {"SCC_APP_DATABASE_URL": f"sqlite:///{settings.data_dir / 'bench-app.sqlite'}"}
        figures = {"rest": _rest_figures(url, token, calls, settings),
                   "http": asyncio.run(_over_http(url, token, calls)),
                   "stdio": asyncio.run(_over_stdio(token, env, calls))}
    finally:
        servers.stop()
    rows = []
    baselines = {"ask": "REST POST /query/ask", "query_metrics": "in process (compile + guard + run)",
                 "tools/list": "REST GET /auth/me"}
    for call, baseline in baselines.items():
        rest = figures["rest"][call]
        row = [scale, call, baseline, f"{rest['p50_ms']:.1f} / {rest['p95_ms']:.1f}"]
        for transport in ("http", "stdio"):
            got = figures[transport][call]
            row += [f"{got['p50_ms']:.1f} / {got['p95_ms']:.1f}", f"{got['p50_ms'] - rest['p50_ms']:+.1f}"]
        rows.append(row)
    return rows, figures


def run(quick: bool) -> dict:
    scales = bench_scales(quick, [1, 10], [0.1])
    calls = 12 if quick else 60
    rows, raw = [], {}
    for scale in scales:
        scale_rows, figures = run_scale(scale, calls)
        rows += scale_rows
        raw[str(scale)] = figures
    body = table(["scale", "call", "baseline", "baseline p50 / p95 (ms)", "MCP HTTP p50 / p95 (ms)", "HTTP − baseline",
                  "MCP stdio p50 / p95 (ms)", "stdio − baseline"], rows)
    body += (f"\n\n{calls} calls each, one client at a time, after a warm-up; the SDK's own client (mcp "
             f"{_sdk_version()}), streamable HTTP to /mcp on `scc serve` (2 workers, Redis), stdio to `scc mcp`. "
             "`tools/list` (no data read) against `GET /auth/me` is the protocol's own cost. "
             "Aim: each MCP call within 20 ms of the same call through the REST API.")
    last = [r for r in rows if r[0] == scales[-1]]
    summary = f"scale {scales[-1]}: " + "; ".join(f"{r[1]} HTTP {r[5]} ms, stdio {r[7]} ms vs baseline" for r in last)
    return {"title": TITLE, "body": body, "summary": summary, "raw": raw}


def _sdk_version() -> str:
    import importlib.metadata

    return importlib.metadata.version("mcp")
