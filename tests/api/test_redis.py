"""Redis (a real redis-server): the dashboard cache and its invalidation, and the rate limit, exact at 100/min."""

from __future__ import annotations

import time

import pytest

from api.cache import invalidate_dashboards

from .helpers import mint, scope_for

pytestmark = pytest.mark.slow


def test_dashboards_are_cached_for_30_s_and_dropped_when_the_marts_change(api, redis_server, people_scopes):
    execs, manager, rep = people_scopes
    redis = redis_server.client()
    invalidate_dashboards()
    with api.client(mint(execs)) as e, api.client(mint(manager)) as m, api.client(mint(rep)) as r:
        first = e.get("/api/v1/dashboard/pipeline")
        assert first.headers["x-cache"] == "miss"
        second = e.get("/api/v1/dashboard/pipeline")
        assert second.headers["x-cache"] == "hit" and second.content == first.content
        keys = [k.decode() for k in redis.scan_iter("scc:dash:all:pipeline:*")]
        # fresh for 30 s, then answered stale (and recomputed) for up to an hour, unless the marts change first
        assert len(keys) == 1 and 30 < redis.ttl(keys[0]) <= 30 + 3600
        fresh_until = float(redis.get(keys[0]).split(b"\n", 1)[0])
        assert 0 < fresh_until - time.time() <= 30
        # every executive shares the entry: a different executive gets the hit
        with api.client(mint(scope_for("sales_exec"))) as other_exec:
            assert other_exec.get("/api/v1/dashboard/pipeline").headers["x-cache"] == "hit"
        for client in (m, r):
            assert client.get("/api/v1/dashboard/pipeline").headers["x-cache"] == "miss"
            assert client.get("/api/v1/dashboard/pipeline").headers["x-cache"] == "hit"

        # a change in another territory: executives' figures go, this manager's and rep's stay
        invalidate_dashboards({"territory": "Some Other Territory"})
        assert e.get("/api/v1/dashboard/pipeline").headers["x-cache"] == "miss"
        assert m.get("/api/v1/dashboard/pipeline").headers["x-cache"] == "hit"
        assert r.get("/api/v1/dashboard/pipeline").headers["x-cache"] == "hit"
        # another rep of the same territory: the manager's figures go, this rep's stay
        invalidate_dashboards({"territory": manager.territory, "rep_id": "another-rep"})
        assert m.get("/api/v1/dashboard/pipeline").headers["x-cache"] == "miss"
        assert r.get("/api/v1/dashboard/pipeline").headers["x-cache"] == "hit"
        # this rep's rows
        invalidate_dashboards({"rep_id": rep.rep_id})
        assert r.get("/api/v1/dashboard/pipeline").headers["x-cache"] == "miss"
        # everything
        invalidate_dashboards()
        assert not list(redis.scan_iter("scc:dash:*"))


def test_the_rate_limit_is_exactly_100_requests_a_minute_per_user(api):
    user = scope_for("sales_rep", rep_id="rate-limited-rep", territory="Nowhere")
    started = time.time()
    with api.client(mint(user)) as client, api.client(mint(scope_for("sales_exec"))) as bystander:
        codes = [client.get("/api/v1/auth/me").status_code for _ in range(100)]
        assert codes == [200] * 100
        refused = client.get("/api/v1/auth/me")
        assert refused.status_code == 429
        retry_after = int(refused.headers["retry-after"])
        elapsed = time.time() - started
        assert 60 - elapsed - 2 <= retry_after <= 60, (retry_after, elapsed)
        assert refused.headers["x-ratelimit-limit"] == "100" and refused.headers["x-ratelimit-remaining"] == "0"
        assert client.get("/api/v1/dashboard/overview").status_code == 429  # every endpoint, one budget
        assert bystander.get("/api/v1/auth/me").status_code == 200  # per user
    metrics = api.client().get("/metrics").text
    assert "scc_api_rate_limited_total" in metrics


def _computations(api, dashboard: str) -> float:
    import httpx

    text = httpx.get(api.url + "/metrics", trust_env=False).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("scc_api_dashboard_computations_total{") and f'dashboard="{dashboard}"' in line)


def test_a_burst_after_a_refresh_computes_each_dashboard_once_per_worker(api, people_scopes):
    """Every open dashboard asks at once when the marts refresh: they share the computation, not repeat it."""
    import asyncio

    import httpx

    execs, _, _ = people_scopes
    invalidate_dashboards()
    before = _computations(api, "customers")

    async def burst() -> list[httpx.Response]:
        headers = {"Authorization": f"Bearer {mint(execs)}"}
        async with httpx.AsyncClient(base_url=api.url, headers=headers, trust_env=False, timeout=60,
                                     limits=httpx.Limits(max_connections=30)) as client:
            return await asyncio.gather(*(client.get("/api/v1/dashboard/customers") for _ in range(30)))

    responses = asyncio.run(burst())
    assert all(r.status_code == 200 for r in responses)
    assert len({r.content for r in responses}) == 1  # everyone got the same figures
    computed = _computations(api, "customers") - before
    assert 1 <= computed <= 2, f"{computed} computations for 30 requests on two workers"


def test_a_stale_dashboard_is_answered_at_once_and_recomputed_behind_it(api, redis_server, people_scopes):
    execs, _, _ = people_scopes
    redis = redis_server.client()
    invalidate_dashboards()
    with api.client(mint(execs)) as client:
        fresh = client.get("/api/v1/dashboard/products")
        assert fresh.headers["x-cache"] == "miss"
        (key,) = [k.decode() for k in redis.scan_iter("scc:dash:all:products:*")]
        _, rest = redis.get(key).split(b"\n", 1)
        redis.set(key, b"%.3f\n" % (time.time() - 1) + rest, keepttl=True)  # its 30 s are over
        before = _computations(api, "products")
        stale = client.get("/api/v1/dashboard/products")
        assert stale.headers["x-cache"] == "stale" and stale.content == fresh.content
        deadline = time.monotonic() + 30
        while float(redis.get(key).split(b"\n", 1)[0]) < time.time() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert client.get("/api/v1/dashboard/products").headers["x-cache"] == "hit"
        assert _computations(api, "products") - before == 1  # recomputed once, behind the stale answer
        invalidate_dashboards()  # a refresh of the marts: never answered stale
        assert client.get("/api/v1/dashboard/products").headers["x-cache"] == "miss"
