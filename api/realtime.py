"""``/ws/dashboard``: live updates for the dashboard, across every API worker.

A client connects with its access token (``Authorization: Bearer …`` or ``?token=…``) and receives:

- ``{"type": "hello", ...}`` and a ``{"type": "snapshot", "metrics": {...}}`` of its overview figures;
- ``{"type": "refresh", "changed": {...}, "metrics": {...}, "refresh": {...}}`` after the marts were refreshed
  (:func:`api.cache.invalidate_dashboards`), with the figures of its scope that changed and, as the
  snapshot, when the figures are from and whether the latest refresh failed (:func:`scc.publish.refresh_status`);
- ``{"type": "event", "kind": "big_order"|"deal_won"|..., "data": {...}}`` for notable events
  (:func:`api.cache.publish_event`) about rows its scope covers, and nothing about other rows.

Every worker subscribes to the same Redis channel, so a message published anywhere reaches the clients
of all workers. Send ``ping`` to get ``{"type": "pong"}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from api.cache import scope_key_affected
from api.deps import ReadScope
from api.security import Scope
from api.services.warehouse import WarehouseUnavailable
from scc.publish import refresh_status

log = logging.getLogger("scc.api.realtime")
router = APIRouter(tags=["realtime"])

OVERVIEW_PARAMS = {"period": "quarter"}
WARM_SCOPE = Scope(user="dashboard-warm-up", role="sales_exec")  # every executive shares these figures


class Client:
    def __init__(self, websocket: WebSocket, scope: Scope):
        self.websocket = websocket
        self.scope = scope
        self.last: dict = {}
        self._lock = asyncio.Lock()

    async def send(self, message: dict) -> bool:
        try:
            async with self._lock:
                await asyncio.wait_for(self.websocket.send_text(json.dumps(message, default=str)), timeout=10)
            return True
        except Exception:  # noqa: BLE001 - a gone or stuck client is dropped by its own handler
            return False


class Hub:
    """This worker's WebSocket clients, fed from the pub/sub channel."""

    def __init__(self, app):
        self.app = app
        self.clients: set[Client] = set()
        self._task: asyncio.Task | None = None
        self._warming: set[asyncio.Task] = set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())
        self._warm()

    def _warm(self) -> None:
        """The executives' dashboards computed ahead of the first visit (SCC_API_WARM_DASHBOARDS)."""
        if not self.app.state.settings.api_warm_dashboards:
            return
        from api.routes.dashboard import warm_dashboards

        task = asyncio.get_running_loop().create_task(warm_dashboards(self.app, [WARM_SCOPE]))
        self._warming.add(task)
        task.add_done_callback(self._warmed)

    def _warmed(self, task: asyncio.Task) -> None:
        from api.main import settle_memory

        self._warming.discard(task)
        settle_memory()  # what the warm-up loaded (the agents, the catalogue) stays for good

    async def stop(self) -> None:
        for task in list(self._warming):
            task.cancel()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass

    async def _run(self) -> None:
        async for message in self.app.state.store.listen():
            try:
                await self.dispatch(message)
            except Exception:  # noqa: BLE001 - one bad message must not stop the feed
                log.exception("could not dispatch a realtime message")

    async def metrics_for(self, scope: Scope) -> dict:
        from api.routes.dashboard import cached_dashboard

        dashboard, _ = await cached_dashboard(self.app, scope, "overview", OVERVIEW_PARAMS)
        return dashboard.data()["metrics"]

    async def dispatch(self, message: dict) -> None:
        kind = message.get("type")
        metrics = self.app.state.metrics
        if kind == "event":
            targets = [c for c in list(self.clients) if c.scope.covers(message.get("rep_id"), message.get("territory"))]
            out = {"type": "event", "kind": message.get("kind"), "data": message.get("data"), "at": message.get("at")}
            await asyncio.gather(*(c.send(out) for c in targets))
            metrics.pushes.labels("event").inc(len(targets))
        elif kind == "refresh":
            change = message.get("scope")
            affected = [c for c in list(self.clients) if scope_key_affected(c.scope.key, change)]
            by_scope: dict[str, list[Client]] = {}
            for client in affected:
                by_scope.setdefault(client.scope.key, []).append(client)
            sends = []
            refresh = refresh_status(self.app.state.settings)  # the figures' time, whether the last refresh failed
            for clients in by_scope.values():
                try:
                    figures = await self.metrics_for(clients[0].scope)
                except WarehouseUnavailable as error:
                    figures, note = None, str(error)
                else:
                    note = None
                for client in clients:
                    changed = {k: v for k, v in (figures or {}).items() if client.last.get(k) != v}
                    if figures is not None:
                        client.last = figures
                    sends.append(client.send({"type": "refresh", "reason": message.get("reason"), "changed": changed,
                                              "metrics": figures, "at": message.get("at"), "error": note,
                                              "refresh": refresh}))
            await asyncio.gather(*sends)
            metrics.pushes.labels("refresh").inc(len(sends))
            self._warm()


@router.websocket("/ws/dashboard")
async def dashboard_socket(websocket: WebSocket, scope: ReadScope) -> None:
    hub: Hub = websocket.app.state.hub
    metrics = websocket.app.state.metrics
    await websocket.accept()
    client = Client(websocket, scope)
    hub.clients.add(client)
    metrics.websockets.inc()
    try:
        await client.send({"type": "hello", "user": scope.user, "role": scope.role, "rep_id": scope.rep_id,
                           "territory": scope.territory, "worker": os.getpid()})
        try:
            client.last = await hub.metrics_for(scope)
            await client.send({"type": "snapshot", "metrics": client.last,
                               "refresh": refresh_status(websocket.app.state.settings)})
        except WarehouseUnavailable as error:
            await client.send({"type": "snapshot", "metrics": None, "error": str(error)})
        while True:
            remaining = (scope.expires_at - time.time()) if scope.expires_at else None
            if remaining is not None and remaining <= 0:
                await client.send({"type": "expired", "detail": "the access token expired; connect again"})
                await websocket.close(code=4401)
                break
            try:
                text = await asyncio.wait_for(websocket.receive_text(), timeout=remaining)
            except asyncio.TimeoutError:
                continue
            if text.strip().lower() in ("ping", '{"type":"ping"}', '{"type": "ping"}'):
                await client.send({"type": "pong"})
    except WebSocketDisconnect:
        pass
    finally:
        hub.clients.discard(client)
        metrics.websockets.dec()
