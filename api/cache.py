"""Redis for the API: the dashboard cache, the per-user rate limit, and pub/sub between workers.

With ``SCC_REDIS_URL`` set every API worker shares one Redis server; without it an in-process stand-in does
the same jobs for a single worker (``scc serve`` then runs one worker only).

For orchestration (and anything else that changes the marts):

- :func:`invalidate_dashboards` drops the cached dashboards a change affects and tells every worker, which
  then pushes the changed metrics to its WebSocket clients;
- :func:`publish_event` pushes a notable event (a big order, a deal won) to the clients whose scope covers it.

Both are plain synchronous functions that need only the settings: ``from api.cache import
invalidate_dashboards; invalidate_dashboards()`` after a build of the marts, or
``invalidate_dashboards({"territory": "Pacific"})`` when only one territory's rows changed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from scc.config import Settings, get_settings

log = logging.getLogger("scc.api.cache")

CHANNEL = "scc:realtime"
DASH_PREFIX = "scc:dash:"
GEN_KEY = "scc:dashgen"
RATE_PREFIX = "scc:rl:"
WINDOW_S = 60

# Sliding-window log: at most `limit` requests in any `window` milliseconds, one clock (Redis's) for all workers.
_RATE_SCRIPT = """
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, now .. '-' .. ARGV[3])
  redis.call('PEXPIRE', key, window)
  return {1, limit - count - 1, 0}
end
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
return {0, 0, tonumber(oldest[2]) + window - now}
"""

# Store a computed dashboard only if no invalidation happened while it was computed.
_SET_IF_GEN_SCRIPT = """
local gen = redis.call('GET', KEYS[2]) or '0'
if gen == ARGV[3] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
  return 1
end
return 0
"""


# --- which cached dashboards and which clients a change concerns -----------------------------------


def change_scope(scope: Any) -> dict | None:
    """Normalise a change's scope (None, a dict, or an object with ``territory``/``rep_id``) to a dict."""
    if scope is None:
        return None
    if isinstance(scope, dict):
        territory, rep_id = scope.get("territory"), scope.get("rep_id")
    else:
        territory, rep_id = getattr(scope, "territory", None), getattr(scope, "rep_id", None)
    if territory is None and rep_id is None:
        return None
    return {"territory": territory, "rep_id": rep_id}


def scope_key_affected(scope_key: str, change: dict | None) -> bool:
    """Whether cached data of a scope key (``all``, ``terr:T``, ``rep:T:R``) may hold the changed rows."""
    if change is None or scope_key == "all":
        return True
    territory, rep_id = change.get("territory"), change.get("rep_id")
    kind, _, rest = scope_key.partition(":")
    if kind == "terr":
        return territory is None or rest == territory
    if kind == "rep":
        rep_territory, _, rep = rest.partition(":")
        if rep_id is not None:
            return rep == rep_id
        return territory is None or rep_territory == territory
    return True


def _glob(text: str) -> str:
    return "".join("\\" + c if c in "*?[]\\" else c for c in text)


def _patterns(change: dict | None) -> list[str]:
    if change is None:
        return [DASH_PREFIX + "*"]
    territory, rep_id = change.get("territory"), change.get("rep_id")
    patterns = [DASH_PREFIX + "all:*"]
    if territory is not None:
        patterns.append(f"{DASH_PREFIX}terr:{_glob(territory)}:*")
        rep = _glob(rep_id) if rep_id is not None else "*"
        patterns.append(f"{DASH_PREFIX}rep:{_glob(territory)}:{rep}:*")
    else:
        patterns.append(f"{DASH_PREFIX}terr:*")
        patterns.append(f"{DASH_PREFIX}rep:*:{_glob(rep_id)}:*")
    return patterns


def dashboard_key(scope_key: str, name: str, params: dict) -> str:
    digest = hashlib.sha1(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{DASH_PREFIX}{scope_key}:{name}:{digest}"


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- backends --------------------------------------------------------------------------------------


class MemoryStore:
    """The in-process stand-in for Redis: one worker, nothing shared with other processes."""

    kind = "memory"

    def __init__(self):
        self._lock = threading.Lock()
        self._data: dict[str, tuple[float, bytes]] = {}
        self._windows: dict[str, deque] = {}
        self._gen = 0
        self._claims: dict[str, float] = {}
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = []

    # cache
    async def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._data[key]
                return None
            return entry[1]

    async def generation(self) -> str:
        return str(self._gen)

    async def set_if_generation(self, key: str, value: bytes, ttl: int, generation: str) -> bool:
        with self._lock:
            if str(self._gen) != generation:
                return False
            if len(self._data) > 10_000:  # keep the stand-in bounded
                now = time.monotonic()
                self._data = {k: v for k, v in self._data.items() if v[0] > now}
            self._data[key] = (time.monotonic() + ttl, value)
            return True

    async def claim(self, key: str, seconds: int) -> bool:
        """True for the first caller of ``key`` within ``seconds`` (one worker here: always the first)."""
        with self._lock:
            now = time.monotonic()
            if self._claims.get(key, 0.0) > now:
                return False
            self._claims[key] = now + seconds
            return True

    def invalidate(self, change: dict | None) -> int:
        with self._lock:
            self._gen += 1
            doomed = [k for k in self._data if scope_key_affected(_scope_key_of(k), change)]
            for key in doomed:
                del self._data[key]
            return len(doomed)

    # rate limit
    async def rate_hit(self, user: str, limit: int, window_s: int = WINDOW_S) -> tuple[bool, int, float]:
        now = time.monotonic()
        with self._lock:
            log_ = self._windows.setdefault(user, deque())
            while log_ and log_[0] <= now - window_s:
                log_.popleft()
            if len(log_) < limit:
                log_.append(now)
                return True, limit - len(log_), 0.0
            return False, 0, log_[0] + window_s - now

    # pub/sub
    def publish(self, message: dict) -> None:
        data = json.dumps(message)
        for loop, queue in list(self._subscribers):
            try:
                loop.call_soon_threadsafe(queue.put_nowait, data)
            except RuntimeError:  # the loop is closed
                pass

    async def apublish(self, message: dict) -> None:
        self.publish(message)

    async def listen(self) -> AsyncIterator[dict]:
        queue: asyncio.Queue = asyncio.Queue()
        entry = (asyncio.get_running_loop(), queue)
        self._subscribers.append(entry)
        try:
            while True:
                yield json.loads(await queue.get())
        finally:
            self._subscribers.remove(entry)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        pass


def _scope_key_of(key: str) -> str:
    rest = key[len(DASH_PREFIX):]
    parts = rest.split(":")
    if parts[0] == "rep":
        return ":".join(parts[:3])
    if parts[0] == "terr":
        return ":".join(parts[:2])
    return parts[0]


class RedisStore:
    """The shared store: one Redis server for every worker (asyncio client for requests)."""

    kind = "redis"

    def __init__(self, url: str):
        import redis.asyncio as aioredis

        self.url = url
        self.client = aioredis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=10,
                                              health_check_interval=30)
        self._rate = self.client.register_script(_RATE_SCRIPT)
        self._set_if_gen = self.client.register_script(_SET_IF_GEN_SCRIPT)

    async def get(self, key: str) -> bytes | None:
        return await self.client.get(key)

    async def generation(self) -> str:
        value = await self.client.get(GEN_KEY)
        return value.decode() if value else "0"

    async def set_if_generation(self, key: str, value: bytes, ttl: int, generation: str) -> bool:
        return bool(await self._set_if_gen(keys=[key, GEN_KEY], args=[value, ttl, generation]))

    async def claim(self, key: str, seconds: int) -> bool:
        """True for the first worker that claims ``key`` within ``seconds``."""
        return bool(await self.client.set(key, b"1", nx=True, ex=seconds))

    async def rate_hit(self, user: str, limit: int, window_s: int = WINDOW_S) -> tuple[bool, int, float]:
        allowed, remaining, retry_ms = await self._rate(
            keys=[RATE_PREFIX + user], args=[limit, window_s * 1000, uuid.uuid4().hex[:12]]
        )
        return bool(allowed), int(remaining), float(retry_ms) / 1000.0

    async def apublish(self, message: dict) -> None:
        await self.client.publish(CHANNEL, json.dumps(message))

    async def listen(self) -> AsyncIterator[dict]:
        """Messages of the channel, for ever; reconnects after Redis restarts."""
        delay = 0.2
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                delay = 0.2
                while True:
                    message = await pubsub.get_message(timeout=30.0)
                    if message and message.get("type") == "message":
                        try:
                            yield json.loads(message["data"])
                        except (ValueError, TypeError):
                            log.warning("ignoring a malformed realtime message")
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - Redis went away: try again
                log.warning("realtime subscription lost (%s); reconnecting", error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            finally:
                try:
                    await pubsub.aclose()
                except Exception:  # noqa: BLE001
                    pass

    async def ping(self) -> bool:
        return bool(await self.client.ping())

    async def close(self) -> None:
        await self.client.aclose()


def make_store(settings: Settings):
    return RedisStore(settings.redis_url) if settings.redis_url else MemoryStore()


# The in-process store of an API running in this process (without Redis), so that the functions below reach it.
_local_store: MemoryStore | None = None


def register_local_store(store) -> None:
    global _local_store
    _local_store = store if isinstance(store, MemoryStore) else None


def _sync_client(settings: Settings):
    import redis

    return redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5, socket_timeout=10)


# --- what orchestration calls ----------------------------------------------------------------------


def invalidate_dashboards(scope: Any = None, *, reason: str = "marts refreshed", settings: Settings | None = None,
                          metrics: list[str] | None = None) -> int:
    """Drop the cached dashboards a change affects and tell every API worker (which pushes the changed
    metrics to its WebSocket clients). ``scope``: None for everything, or ``{"territory": ..., "rep_id": ...}``
    (either may be left out). Returns the number of cache entries dropped.
    """
    settings = settings or get_settings()
    change = change_scope(scope)
    message = {"type": "refresh", "scope": change, "reason": reason, "metrics": metrics, "at": _now_iso()}
    if settings.redis_url:
        client = _sync_client(settings)
        try:
            client.incr(GEN_KEY)
            dropped = 0
            for pattern in _patterns(change):
                batch = []
                for key in client.scan_iter(match=pattern, count=500):
                    batch.append(key)
                    if len(batch) >= 500:
                        dropped += client.delete(*batch)
                        batch = []
                if batch:
                    dropped += client.delete(*batch)
            client.publish(CHANNEL, json.dumps(message))
            return dropped
        finally:
            client.close()
    if _local_store is not None:
        dropped = _local_store.invalidate(change)
        _local_store.publish(message)
        return dropped
    log.debug("invalidate_dashboards: no Redis configured and no API in this process; nothing to do")
    return 0


def publish_event(kind: str, data: dict | None = None, *, rep_id: str | None = None, territory: str | None = None,
                  settings: Settings | None = None) -> None:
    """Push a notable event (``big_order``, ``deal_won``, …) to the dashboards whose scope covers the row
    it is about (``rep_id``/``territory``; with neither, only the roles that see everything get it)."""
    settings = settings or get_settings()
    message = {"type": "event", "kind": kind, "data": data or {}, "rep_id": rep_id, "territory": territory,
               "at": _now_iso()}
    if settings.redis_url:
        client = _sync_client(settings)
        try:
            client.publish(CHANNEL, json.dumps(message, default=str))
        finally:
            client.close()
    elif _local_store is not None:
        _local_store.publish(json.loads(json.dumps(message, default=str)))


__all__ = ["invalidate_dashboards", "publish_event", "make_store", "MemoryStore", "RedisStore", "CHANNEL",
           "dashboard_key", "scope_key_affected"]
