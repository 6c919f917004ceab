"""``/ws/dashboard`` over real WebSockets, across the API's two worker processes, through Redis pub/sub."""

from __future__ import annotations

import contextlib
import json
import time

import pytest
import websockets.sync.client as ws_client

from api.cache import invalidate_dashboards, publish_event

from .helpers import mint, scope_for, wait_for

pytestmark = pytest.mark.slow


class Socket:
    def __init__(self, api, scope, stack):
        self.scope = scope
        self.ws = stack.enter_context(ws_client.connect(
            api.url.replace("http", "ws") + f"/ws/dashboard?token={mint(scope)}", open_timeout=15))
        self.hello = self.next()
        assert self.hello["type"] == "hello"
        self.snapshot = self.next()
        assert self.snapshot["type"] == "snapshot"

    def next(self, timeout: float = 15) -> dict:
        return json.loads(self.ws.recv(timeout=timeout))

    def next_of(self, kind: str, timeout: float = 15) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            message = self.next(max(0.1, deadline - time.monotonic()))
            if message["type"] == kind:
                return message


@pytest.fixture
def sockets(api):
    with contextlib.ExitStack() as stack:
        yield lambda scope: Socket(api, scope, stack)


def test_a_refresh_reaches_the_clients_of_both_workers(api, sockets):
    execs = scope_for("sales_exec")
    clients = [sockets(execs)]
    workers = {clients[0].hello["worker"]}

    def on_two_workers():
        socket = sockets(execs)
        clients.append(socket)
        workers.add(socket.hello["worker"])
        return len(workers) >= 2

    wait_for(on_two_workers, timeout=60, interval=0, what="WebSocket clients on both API workers")
    assert clients[0].snapshot["metrics"]["orders"] >= 0
    invalidate_dashboards(reason="test refresh")
    for client in clients:
        message = client.next_of("refresh")
        assert message["reason"] == "test refresh" and message["metrics"] == client.snapshot["metrics"]
        assert message["changed"] == {}  # nothing changed in the marts


def test_notable_events_reach_only_the_clients_whose_scope_covers_them(api, sockets, people_scopes):
    execs, manager, rep = people_scopes
    other_rep = scope_for("sales_rep", rep_id="00500000000000XXXX", territory=rep.territory)
    other_manager = scope_for("sales_manager", territory="Some Other Territory")
    finance = scope_for("finance_viewer")
    clients = {name: sockets(scope) for name, scope in {
        "exec": execs, "manager": manager, "rep": rep, "other_rep": other_rep, "other_manager": other_manager,
        "finance": finance}.items()}
    publish_event("big_order", {"total": 123456.0, "customer_name": "Disney"}, rep_id=rep.rep_id,
                  territory=rep.territory)
    invalidate_dashboards(reason="after the event")  # a message everyone gets
    for name, client in clients.items():
        first = client.next_of("event") if name in ("exec", "manager", "rep", "finance") else None
        if first is not None:
            assert first["kind"] == "big_order" and first["data"]["total"] == 123456.0
        following = client.next()
        assert following["type"] == "refresh", (name, following)  # nothing else arrived before it


def test_an_approved_big_order_is_pushed_to_its_reps_dashboard(api, sockets, people_scopes, marts):
    execs, manager, rep = people_scopes
    socket = sockets(rep)
    customer = marts("SELECT customer_id FROM marts.dim_customers WHERE rep_id = ? AND netsuite_customer_id IS NOT NULL "
                     "ORDER BY credit_limit - open_balance DESC LIMIT 1", [rep.rep_id])[0]["customer_id"]
    hat = marts("SELECT product_id, list_price FROM marts.dim_products WHERE sku = 'HAT-0009'")[0]
    with api.client(mint(rep)) as client:
        body = {"customer_id": customer, "lines": [{"product_id": hat["product_id"], "quantity": 400,
                                                    "unit_price": hat["list_price"]}]}
        tx = client.post("/api/v1/orders", json=body).json()
        assert tx["valid"] and tx["total"] >= 20000, tx["checks"]
        assert client.post(f"/api/v1/transactions/{tx['id']}/approve").status_code == 200
    event = socket.next_of("event", timeout=20)
    assert event["kind"] == "big_order" and event["data"]["transaction_id"] == tx["id"]


def test_a_socket_closes_when_its_token_expires(api):
    url = api.url.replace("http", "ws") + f"/ws/dashboard?token={mint(scope_for('sales_exec'), ttl=3)}"
    with ws_client.connect(url, open_timeout=15) as ws:
        kinds = [json.loads(ws.recv(timeout=15))["type"] for _ in range(2)]
        assert kinds == ["hello", "snapshot"]
        message = json.loads(ws.recv(timeout=20))
        while message["type"] != "expired":  # a refresh from another test may come first
            message = json.loads(ws.recv(timeout=20))
        with pytest.raises(Exception):
            ws.recv(timeout=10)
        assert ws.close_code == 4401


def test_scc_build_from_the_command_line_invalidates_the_cache_and_pushes(api, sockets, people_scopes):
    """A build from the command line publishes through the same function as Dagster's (scc.publish): the
    cached dashboards are dropped and the clients pushed at once, not when the cache entry expires."""
    import subprocess
    import sys

    execs, _, _ = people_scopes
    socket = sockets(execs)
    with api.client(mint(execs)) as client:
        client.get("/api/v1/dashboard/overview")
        before = client.get("/api/v1/dashboard/overview")
        assert before.headers["X-Cache"] == "hit"
        result = subprocess.run([sys.executable, "-m", "scc", "build", "--select", "fct_quotas"],
                                capture_output=True, text=True, timeout=600)  # SCC_REDIS_URL: the API's Redis
        assert result.returncode == 0, result.stdout + result.stderr
        built = time.monotonic()
        message = socket.next_of("refresh", timeout=10)
        assert "scc build" in message["reason"], message
        after = client.get("/api/v1/dashboard/overview").json()["refresh"]  # recomputed (or pushed) since
        assert after["published_by"] == "scc build" and not after["last_refresh_failed"]
        assert after["figures_as_of"] > (before.json()["refresh"]["figures_as_of"] or ""), (before.json(), after)
        assert time.monotonic() - built < 5
