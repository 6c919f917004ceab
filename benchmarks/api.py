"""The API under load: 50 concurrent clients (wrk, on loopback) on the dashboard endpoints and on query/ask.

For each scale: the emulators' company is synced and built into marts, then ``scc serve`` runs with two
workers and a real redis-server, and wrk drives it for a fixed time per scenario:

- baseline: ``GET /api/v1/auth/me`` (the same stack, token check included, no warehouse): the floor;
- dashboards, cached: the five dashboard endpoints in turn, as one executive, with the 30 s Redis cache warm;
- dashboards, uncached: the same with the cache off (``SCC_API_CACHE_TTL=0``): every request reads the marts;
- ask: ``POST /api/v1/query/ask`` with planner-path questions in turn (no LLM configured).

The per-user rate limit is off for the run (``SCC_API_RATE_LIMIT=0``): fifty clients sharing a few users
would otherwise be throttled to 100 requests a minute each, which is the limit doing its job, not the API's speed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import bench_scales, prepare_warehouse, table

TITLE = "API under load"
CONNECTIONS = 50
DASHBOARDS = ["/api/v1/dashboard/overview", "/api/v1/dashboard/pipeline", "/api/v1/dashboard/orders",
              "/api/v1/dashboard/customers", "/api/v1/dashboard/products"]
QUESTIONS = [
    "show me pending orders over $100K",
    "what are bookings this month",
    "top 10 customers by revenue",
    "open pipeline by stage",
    "win rate last quarter",
    "which products sold the most units this quarter",
]

WRK_SCRIPT = r"""
local paths = {PATHS}
local bodies = {BODIES}
local method = "METHOD"
local token = "TOKEN"
local threads = {}
local counter = 0

function setup(thread)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local i = (counter % #paths) + 1
  local body = nil
  if #bodies > 0 then body = bodies[(counter % #bodies) + 1] end
  return wrk.format(method, paths[i], {["Authorization"] = "Bearer " .. token, ["Accept-Encoding"] = "gzip",
                                       ["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"status_errors":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, summary.errors.status, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout))
end
"""


def _lua_list(values: list[str]) -> str:
    return "{" + ", ".join(json.dumps(v) for v in values) + "}"


def wrk(url: str, token: str, paths: list[str], seconds: int, method: str = "GET",
        bodies: list[str] | None = None) -> dict:
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk is not installed; `make bench` installs it (apt package wrk)")
    script = (WRK_SCRIPT.replace("{PATHS}", _lua_list(paths)).replace("{BODIES}", _lua_list(bodies or []))
              .replace("METHOD", method).replace("TOKEN", token))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        out = subprocess.run(
            [binary, "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--timeout", "10s", "-s", handle.name, url],
            capture_output=True, text=True, timeout=seconds + 60,
        )
    finally:
        os.unlink(handle.name)
    line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}")
    result = json.loads(line[len("RESULT "):])
    result["errors"] = sum(result[k] for k in ("status_errors", "connect_errors", "read_errors", "write_errors",
                                                "timeouts"))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


class Servers:
    """redis-server and `scc serve` for one scale; restartable with other settings."""

    def __init__(self, data_dir: Path):
        from scc.processes import Supervisor, free_port

        self.data_dir = data_dir
        self.supervisor = Supervisor(data_dir / "logs")
        port = free_port()
        self.redis = self.supervisor.start("redis", [shutil.which("redis-server") or "redis-server", "--port", str(port),
                                                     "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        self.api = None
        self.url = ""

    def start_api(self, **env: str) -> str:
        import httpx

        from scc.processes import free_port, scc_command

        if self.api is not None:
            self.api.stop()
            self.supervisor.children.remove(self.api)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.api = self.supervisor.start("api", scc_command("serve"), env={
            "SCC_REDIS_URL": self.redis_url, "SCC_API_PORT": str(port), "SCC_API_WORKERS": "2",
            "SCC_API_RATE_LIMIT": "0", "SCC_LOG_LEVEL": "WARNING",
            "SCC_APP_DATABASE_URL": f"sqlite:///{self.data_dir / 'bench-app.sqlite'}", **env})

        def ready() -> bool:
            try:
                return httpx.get(self.url + "/health", timeout=5, trust_env=False).status_code == 200
            except httpx.HTTPError:
                return False

        self.supervisor.wait_until(self.api, ready, timeout=180)
        return self.url

    def flush_cache(self) -> None:
        """Empty Redis (the shared dashboard cache) before the API starts again."""
        import redis

        redis.Redis.from_url(self.redis_url).flushall()

    def wait_for_warm_up(self, timeout: float = 600) -> float:
        """Seconds until the API has warmed the executives' dashboards and insights after its start."""
        import httpx

        started = time.perf_counter()
        while time.perf_counter() - started < timeout:
            text = httpx.get(self.url + "/metrics", timeout=10, trust_env=False).text
            if any(line.startswith("scc_api_dashboard_warm_ups_total ") and not line.endswith(" 0.0")
                   for line in text.splitlines()):
                return time.perf_counter() - started
            time.sleep(0.2)
        raise TimeoutError("the API did not warm its dashboards")

    def token(self, user: str = "exec@scc-demo.example") -> str:
        import httpx

        response = httpx.post(self.url + "/api/v1/auth/token", data={"username": user, "password": "scc-demo"},
                              timeout=60, trust_env=False)
        response.raise_for_status()
        return response.json()["access_token"]

    def stop(self) -> None:
        self.supervisor.stop_all()


def _row(scale, name: str, r: dict) -> list:
    return [scale, name, f"{r['requests']:,}", f"{r['rps']:,.0f}", f"{r['p50_us'] / 1000:.1f}",
            f"{r['p95_us'] / 1000:.1f}", f"{r['p99_us'] / 1000:.1f}", r["errors"]]


def run_scale(scale: float, seconds: int) -> tuple[list[list], dict]:
    import httpx

    started = time.perf_counter()
    settings = prepare_warehouse(scale)
    prepared = time.perf_counter() - started
    servers = None
    results: dict[str, dict] = {}
    try:
        servers = Servers(settings.data_dir)
        url = servers.start_api()
        token = servers.token()
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120,
                          trust_env=False) as client:
            for path in DASHBOARDS:  # warm the cache (and DuckDB's file pages)
                client.get(path).raise_for_status()
            client.post("/api/v1/query/ask", json={"question": QUESTIONS[0]}).raise_for_status()
        results["baseline"] = wrk(url, token, ["/api/v1/auth/me"], seconds)
        results["cached"] = wrk(url, token, DASHBOARDS, seconds)
        bodies = [json.dumps({"question": q}) for q in QUESTIONS]
        results["ask"] = wrk(url, token, ["/api/v1/query/ask"], seconds, method="POST", bodies=bodies)
        url = servers.start_api(SCC_API_CACHE_TTL="0")
        token = servers.token()
        results["uncached"] = wrk(url, token, DASHBOARDS, seconds)
    finally:
        if servers:
            servers.stop()
    rows = [_row(scale, name, results[key]) for key, name in (
        ("baseline", "baseline: GET /auth/me"), ("cached", "dashboards, cached"),
        ("uncached", "dashboards, uncached"), ("ask", "query/ask (planner)"))]
    return rows, {"results": results, "prepare_s": prepared}


def run(quick: bool) -> dict:
    scales = bench_scales(quick, [1, 10], [0.1])
    seconds = 5 if quick else 60
    rows, extra = [], {}
    for scale in scales:
        scale_rows, info = run_scale(scale, seconds)
        rows += scale_rows
        extra[str(scale)] = info
    body = table(["scale", "scenario", "requests", "req/s", "p50 (ms)", "p95 (ms)", "p99 (ms)", "errors"], rows)
    body += (f"\n\nwrk, {CONNECTIONS} connections on 2 threads, {seconds} s per scenario, on the same machine as the "
             "API (2 workers, Redis, SQLite app database), rate limit off. Aim: zero errors, p95 under 50 ms "
             "cached and under 300 ms uncached at scale 10.")
    last = scales[-1]
    by_name = {r[1]: r for r in rows if r[0] == last}
    summary = (f"scale {last}: cached p95 {by_name['dashboards, cached'][5]} ms at "
               f"{by_name['dashboards, cached'][3]} req/s, uncached p95 {by_name['dashboards, uncached'][5]} ms, "
               f"ask p95 {by_name['query/ask (planner)'][5]} ms, errors "
               f"{sum(int(r[7]) for r in rows)}")
    return {"title": TITLE, "body": body, "summary": summary, "raw": extra}
