"""The write path against the NetSuite emulator over real HTTP: a sentence to a NetSuite order, exactly once.

Gold comes from the NetSuite emulator's own store (plain SQL on its SQLite file) and from the marts, never
from the API's answers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from .helpers import mint, scope_for, wait_for

pytestmark = pytest.mark.slow

SEED_SENTENCE = "Create a sales order for Disney, 500 hats, $50 each"
LEGAL_WORDS = {"group", "company", "holdings", "corporation", "incorporated", "corp", "inc", "llc", "ltd", "the"}


def orders_with_external_id(emulators, external_id: str) -> list[dict]:
    with sqlite3.connect(f"file:{emulators.netsuite_store}?mode=ro", uri=True) as store:
        store.row_factory = sqlite3.Row
        orders = [dict(r) for r in store.execute(
            "SELECT id, tranid, entity, foreigntotal, externalid FROM \"transaction\" "
            "WHERE externalid = ? AND type = 'SalesOrd'", (external_id,))]
        for order in orders:
            order["lines"] = [dict(r) for r in store.execute(
                "SELECT item, quantity, rate FROM transactionline WHERE \"transaction\" = ? AND mainline = 'F'",
                (order["id"],))]
    return orders


@pytest.fixture(scope="module")
def disney(api, marts, emulators):
    reference = next(s for s in emulators.stories if s.get("kind") == "reference")
    row = marts("SELECT customer_id, netsuite_customer_id, rep_id, territory, credit_limit, open_balance "
                "FROM marts.dim_customers WHERE netsuite_customer_id = ?", [reference["disney"]["netsuite_customer_id"]])[0]
    hat = marts("SELECT product_id, sku, list_price, min_price, quantity_available FROM marts.dim_products "
                "WHERE product_id = ?", [reference["offer_hat"]["item_id"]])[0]
    return {"reference": reference, "customer": row, "hat": hat}


@pytest.fixture
def rep(api, disney):
    """Disney's rep, as a fresh identity (its own rate-limit budget)."""
    scope = scope_for("sales_rep", rep_id=disney["customer"]["rep_id"], territory=disney["customer"]["territory"])
    with api.as_scope(scope) as client:
        client.scope = scope
        yield client


def draft(client, disney, quantity=10, price=50.0, product_id=None) -> dict:
    response = client.post("/api/v1/orders", json={
        "customer_id": disney["customer"]["customer_id"],
        "lines": [{"product_id": product_id or disney["hat"]["product_id"], "quantity": quantity, "unit_price": price}],
    })
    assert response.status_code == 201, response.text
    return response.json()


def failed(tx: dict) -> set[str]:
    checks = tx["checks"]
    out = {name for name in ("customer", "credit", "has_lines") if checks[name]["ok"] is False}
    for line in checks["lines"]:
        out |= {f"line {line['line']} {key}" for key, c in line.items() if key != "line" and c["ok"] is False}
    return out


def test_the_seed_example_becomes_one_netsuite_order(api, rep, disney, emulators):
    created = rep.post("/api/v1/transactions/create", json={"sentence": SEED_SENTENCE})
    assert created.status_code == 201, created.text
    tx = created.json()
    assert tx["valid"] and tx["status"] == "draft", tx["checks"]
    assert tx["draft"]["customer"]["netsuite_customer_id"] == disney["reference"]["disney"]["netsuite_customer_id"]
    (line,) = tx["draft"]["lines"]
    assert (line["quantity"], line["unit_price"], tx["total"]) == (500, 50.0, 25000.0)
    assert line["min_price"] <= 50 <= line["list_price"] and line["quantity_available"] >= 500
    assert not failed(tx)

    pdf = rep.get(f"/api/v1/transactions/{tx['id']}/pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    approved = rep.post(f"/api/v1/transactions/{tx['id']}/approve")
    assert approved.status_code == 200, approved.text
    done = approved.json()
    assert done["status"] == "submitted" and done["netsuite"]["number"]

    (order,) = orders_with_external_id(emulators, tx["external_id"])
    assert str(order["id"]) == done["netsuite"]["id"] and order["tranid"] == done["netsuite"]["number"]
    assert order["entity"] == disney["reference"]["disney"]["netsuite_customer_id"]
    assert order["lines"] == [{"item": int(line["product_id"]), "quantity": 500.0, "rate": 50.0}]
    assert math.isclose(order["foreigntotal"], 25000.0)

    trail = rep.get(f"/api/v1/transactions/{tx['id']}").json()["audit"]
    assert [a["action"] for a in trail] == ["create", "approve", "send", "submitted"]
    assert all(a["actor"] == rep.scope.user and a["at"] for a in trail)
    again = rep.post(f"/api/v1/transactions/{tx['id']}/approve")
    assert again.status_code == 200 and again.json()["netsuite"] == done["netsuite"]
    assert len(orders_with_external_id(emulators, tx["external_id"])) == 1


def test_each_check_fails_on_its_own(api, rep, disney, marts):
    hat = disney["hat"]
    headroom = float(disney["customer"]["credit_limit"]) - float(disney["customer"]["open_balance"])
    # stock: the item whose stock + 1 units at its floor price cost least, within Disney's headroom
    short = marts("SELECT product_id, quantity_available, min_price FROM marts.dim_products WHERE is_active "
                  "AND quantity_available >= 0 ORDER BY (quantity_available + 1) * min_price, product_id LIMIT 1")[0]
    assert (short["quantity_available"] + 1) * short["min_price"] < headroom
    over_credit = math.floor(headroom / 50) + 1
    assert over_credit <= hat["quantity_available"], "the credit case needs an order that stock still covers"
    cases = {
        "line 1 price": dict(quantity=10, price=round(hat["min_price"] - 0.01, 2)),
        "line 1 stock": dict(quantity=short["quantity_available"] + 1, price=short["min_price"],
                             product_id=short["product_id"]),
        "credit": dict(quantity=over_credit, price=50.0),
    }
    for expected, args in cases.items():
        tx = draft(rep, disney, **args)
        assert failed(tx) == {expected}, (expected, tx["checks"])
        assert not tx["valid"]
        refused = rep.post(f"/api/v1/transactions/{tx['id']}/approve")
        assert refused.status_code == 422 and expected in refused.json()["detail"]
    above = draft(rep, disney, quantity=1, price=hat["list_price"] + 1)
    assert failed(above) == {"line 1 price"}

    unknown = rep.post("/api/v1/transactions/create",
                       json={"sentence": "Create a sales order for Zyxwvut Quantum Holdings, 10 HAT-0009, $50 each"})
    assert failed(unknown.json()) == {"customer"}, unknown.json()["checks"]
    product = rep.post("/api/v1/transactions/create",
                       json={"sentence": "Create a sales order for Disney, 10 unicorn saddles, $50 each"})
    assert failed(product.json()) == {"line 1 product"}, product.json()["checks"]


def test_an_ambiguous_customer_offers_choices_and_a_person_picks_one(api, marts, disney):
    with api.as_role("sales_exec") as client:
        names = [r["customer_name"] for r in marts("SELECT customer_name FROM marts.dim_customers "
                                                   "WHERE netsuite_customer_id IS NOT NULL")]
        words: dict[str, int] = {}
        for name in names:
            for word in set(name.lower().replace(",", " ").replace(".", " ").split()):
                if len(word) > 3 and word.isalpha() and word not in LEGAL_WORDS:
                    words[word] = words.get(word, 0) + 1
        word = sorted((w for w, n in words.items() if n >= 2), key=lambda w: (-words[w], w))[0]
        tx = client.post("/api/v1/transactions/create",
                         json={"sentence": f"Create a sales order for {word}, 1 {disney['hat']['sku']}, $50 each"}).json()
        check = tx["checks"]["customer"]
        assert check["ok"] is False and len(check["choices"]) >= 2, check
        chosen = check["choices"][0]["customer_id"]
        edited = client.patch(f"/api/v1/transactions/{tx['id']}", json={"customer_id": chosen})
        assert edited.status_code == 200, edited.text
        body = edited.json()
        assert body["checks"]["customer"]["ok"] and body["draft"]["customer"]["customer_id"] == chosen
        assert body["version"] == tx["version"] + 1
        assert [a["action"] for a in body["audit"]] == ["create", "edit"]


def test_netsuite_failing_then_recovering_gives_one_order(api, rep, disney, clean_faults, emulators):
    tx = draft(rep, disney)
    clean_faults.set_faults(error_rate=1.0, seed=3)
    failed_once = rep.post(f"/api/v1/transactions/{tx['id']}/approve")
    assert failed_once.status_code == 502, failed_once.text
    body = failed_once.json()["transaction"]
    assert body["status"] == "failed" and body["retryable"] and "NetSuite" in body["last_error"]
    assert orders_with_external_id(emulators, tx["external_id"]) == []

    clean_faults.reset_faults()
    retried = rep.post(f"/api/v1/transactions/{tx['id']}/approve")
    assert retried.status_code == 200, retried.text
    assert retried.json()["status"] == "submitted" and retried.json()["attempts"] == 2
    assert len(orders_with_external_id(emulators, tx["external_id"])) == 1
    actions = [a["action"] for a in rep.get(f"/api/v1/transactions/{tx['id']}").json()["audit"]]
    assert actions == ["create", "approve", "submit_failed", "retry", "send", "submitted"]


def test_twenty_concurrent_approvals_create_one_order(api, rep, disney, emulators):
    tx = draft(rep, disney)
    token = rep.headers["Authorization"]

    def approve(_):
        with api.client() as client:
            return client.post(f"/api/v1/transactions/{tx['id']}/approve", headers={"Authorization": token})

    with ThreadPoolExecutor(20) as pool:
        responses = list(pool.map(approve, range(20)))
    codes = sorted(r.status_code for r in responses)
    assert set(codes) <= {200, 409} and codes.count(200) >= 1, codes
    assert len(orders_with_external_id(emulators, tx["external_id"])) == 1
    final = rep.get(f"/api/v1/transactions/{tx['id']}").json()
    assert final["status"] == "submitted" and final["attempts"] == 1
    assert [a["action"] for a in final["audit"]].count("send") == 1


def test_a_crash_between_sending_and_recording_is_recovered_without_a_duplicate(api, rep, disney, emulators,
                                                                                   test_environment):
    tx = draft(rep, disney)
    scope = rep.scope
    code = textwrap.dedent(f"""
        import os, signal
        from api import writepath
        from api.db import get_database
        from api.security import Scope
        from scc.config import get_settings

        def crash(*args, **kwargs):
            os.kill(os.getpid(), signal.SIGKILL)  # NetSuite has the order; nothing recorded it

        writepath._record_success = crash
        print(os.getpid(), flush=True)
        scope = Scope(user={scope.user!r}, role="sales_rep", rep_id={scope.rep_id!r}, territory={scope.territory!r})
        writepath.approve(get_database(), scope, {tx['id']!r}, get_settings())
    """)
    env = {**os.environ, "SCC_APP_DATABASE_URL": api.database_url}  # the lease as configured: 5 minutes
    process = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert process.returncode == -signal.SIGKILL, process.stderr[-2000:]
    (order,) = orders_with_external_id(emulators, tx["external_id"])
    stuck = rep.get(f"/api/v1/transactions/{tx['id']}").json()
    assert stuck["status"] == "submitting" and stuck["netsuite"] is None
    assert stuck["lease"]["holder"].split(":")[1] == process.stdout.split()[0]  # the dead process held it

    # the holder is gone: the first retry takes the lease over at once (no 409 until it runs out)
    response = rep.post(f"/api/v1/transactions/{tx['id']}/approve")
    assert response.status_code == 200, response.text
    recovered = response.json()
    assert recovered["status"] == "submitted" and recovered["found_existing"] is True
    assert recovered["netsuite"] == {"id": str(order["id"]), "number": order["tranid"]}
    assert len(orders_with_external_id(emulators, tx["external_id"])) == 1


def _approval_of(tx_id: str) -> dict:
    from api.db import get_database
    from api.models import Transaction

    with get_database().session() as session:
        row = session.get(Transaction, tx_id)
        return {"status": row.status, "holder": row.lease_holder, "heartbeat_at": row.lease_heartbeat_at}


def test_a_lease_is_kept_while_its_holder_lives_and_taken_over_at_once_when_it_is_gone(
        api, rep, disney, emulators, clean_faults, data_dir):
    """Issue 25.3: an API process SIGKILLed mid-approval no longer blocks retries for the 5-minute lease. While
    its holder lives (heartbeating), a retry elsewhere is refused and told who holds it; the moment the
    process is gone, the next retry takes over and NetSuite gets exactly one order. A holder on another host
    (nothing known of its process) is taken over once its heartbeat stops."""
    from api.db import get_database
    from api.models import SUBMITTING, Transaction, utcnow
    from sqlalchemy import update

    from .fixtures import start_api

    tx = draft(rep, disney)
    approve = f"/api/v1/transactions/{tx['id']}/approve"
    supervisor, child, url = start_api(data_dir, "api-killed-mid-approval", {
        "SCC_REDIS_URL": api.redis_url, "SCC_APP_DATABASE_URL": api.database_url, "SCC_API_WORKERS": "1",
        "SCC_API_NETSUITE_TIMEOUT": "60", "SCC_LOG_LEVEL": "WARNING", "SCC_API_WARM_DASHBOARDS": "false"})
    pool = ThreadPoolExecutor(1)
    try:
        emulators.admin("netsuite", "POST", "faults", {"latency_ms": 3000})  # each NetSuite call takes 3 s
        token = rep.headers["Authorization"]

        def approve_there():
            try:
                return httpx.post(url + approve, headers={"Authorization": token}, timeout=120, trust_env=False)
            except httpx.HTTPError as error:  # the process is killed under it
                return error

        hanging = pool.submit(approve_there)
        held = wait_for(lambda: (row := _approval_of(tx["id"]))["status"] == SUBMITTING and row, timeout=30,
                        what="the other API process to hold the submission")
        host, pid, _start = held["holder"].rsplit(":", 2)
        assert int(pid) == child.process.pid, held

        refused = rep.post(approve)  # a live holder keeps its lease
        assert refused.status_code == 409, refused.text
        assert f"by another request (process {pid} on {host}" in refused.json()["detail"], refused.text
        assert refused.json()["transaction"]["lease"]["holder"] == held["holder"]
        wait_for(lambda: _approval_of(tx["id"])["heartbeat_at"] > held["heartbeat_at"], timeout=15,
                 what="the holder's heartbeat")

        os.kill(child.process.pid, signal.SIGKILL)
        killed = time.monotonic()
        child.process.wait(timeout=30)  # gone (its threads torn down), as it is by the time anyone retries
        clean_faults.reset_faults()
        response = rep.post(approve)  # at once: no waiting out the lease
        taken_over_in = time.monotonic() - killed
        assert response.status_code == 200, response.text
        done = response.json()
        assert done["status"] == "submitted" and done["attempts"] == 2 and done["lease"] is None
        assert isinstance(hanging.result(timeout=60), httpx.HTTPError)
    finally:
        clean_faults.reset_faults()
        supervisor.stop_all()
        pool.shutdown(wait=True)
    assert taken_over_in < 10, taken_over_in
    (order,) = orders_with_external_id(emulators, tx["external_id"])
    assert done["netsuite"] == {"id": str(order["id"]), "number": order["tranid"]}
    retry = [a for a in rep.get(f"/api/v1/transactions/{tx['id']}").json()["audit"] if a["action"] == "retry"]
    assert retry[0]["detail"]["took_over_from"] == {"holder": held["holder"], "why": "its process is gone"}

    # a holder on another host: refused while its heartbeat is fresh, taken over once it has stopped
    other = draft(rep, disney)
    db = get_database()

    def hold(seconds_since_beat: float) -> None:
        now = utcnow()
        with db.session() as session:
            session.execute(update(Transaction).where(Transaction.id == other["id"]).values(
                status=SUBMITTING, attempts=1, lease_holder="another-host:4242:777",
                lease_heartbeat_at=now - dt.timedelta(seconds=seconds_since_beat),
                lease_until=now + dt.timedelta(minutes=4)))
            session.commit()

    hold(0)
    refused = rep.post(f"/api/v1/transactions/{other['id']}/approve")
    assert refused.status_code == 409 and "process 4242 on another-host" in refused.json()["detail"], refused.text
    hold(60)
    taken = rep.post(f"/api/v1/transactions/{other['id']}/approve")
    assert taken.status_code == 200 and taken.json()["status"] == "submitted", taken.text
    assert len(orders_with_external_id(emulators, other["external_id"])) == 1


def approve_where_the_read_back_fails(api, rep, tx: dict, emulators, then: str) -> dict:
    """Approve in a process of its own in which NetSuite (the emulator, by its fault injection over HTTP)
    starts failing the moment the upsert has gone through, so the read-back fails; ``then``: "recovers" (the
    faults are off again before the write path looks the order up) or "stays down"."""
    code = textwrap.dedent(f"""
        import json
        import httpx
        from api import writepath
        from api.db import get_database
        from api.security import Scope
        from scc.config import get_settings

        def faults(**plan):
            httpx.post({emulators.netsuite_root + "/__admin/faults"!r}, json=plan, trust_env=False).raise_for_status()

        upsert, get = writepath.NetSuiteWriter.upsert, writepath.NetSuiteWriter.get

        def upsert_then_fail(self, *args, **kwargs):
            order_id = upsert(self, *args, **kwargs)
            faults(error_rate=1.0, seed=5)  # the order is in NetSuite; its read-back gets 500s
            return order_id

        def read_back(self, *args, **kwargs):
            try:
                return get(self, *args, **kwargs)
            finally:
                if {then!r} == "recovers":
                    faults(error_rate=0.0)

        writepath.NetSuiteWriter.upsert, writepath.NetSuiteWriter.get = upsert_then_fail, read_back
        scope = Scope(user={rep.scope.user!r}, role="sales_rep", rep_id={rep.scope.rep_id!r},
                      territory={rep.scope.territory!r})
        try:
            result = writepath.approve(get_database(), scope, {tx['id']!r}, get_settings()).transaction
            print(json.dumps({{"status": 200, "transaction": result}}))
        except writepath.WriteError as error:
            print(json.dumps({{"status": error.status, "detail": error.message, "transaction": error.transaction}}))
    """)
    env = {**os.environ, "SCC_APP_DATABASE_URL": api.database_url, "SCC_API_NETSUITE_RETRIES": "1"}
    process = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr[-2000:]
    return json.loads(process.stdout.strip().splitlines()[-1])


def netsuite_status(emulators, order_id) -> str:
    return netsuite_row(emulators, "transaction", "id = ?", (int(order_id),))[0]["status"]


def test_a_failed_approval_that_reached_netsuite_is_never_forgotten(api, rep, disney, emulators, clean_faults):
    """Issue 25.2: the upsert went through, the read-back failed. The write path looks the order up by its
    external id before it answers: found, the transaction is submitted (not "NetSuite did not take it");
    not known (NetSuite down), it says so, and a rejection asks NetSuite first and closes the order there,
    or, when NetSuite will not close it, records the order it is and refuses."""
    tx = draft(rep, disney)
    answer = approve_where_the_read_back_fails(api, rep, tx, emulators, then="recovers")
    (order,) = orders_with_external_id(emulators, tx["external_id"])
    assert answer["status"] == 200, answer
    assert answer["transaction"]["status"] == "submitted"
    assert answer["transaction"]["netsuite"] == {"id": str(order["id"]), "number": order["tranid"]}
    trail = rep.get(f"/api/v1/transactions/{tx['id']}").json()["audit"]
    assert [a["action"] for a in trail] == ["create", "approve", "send", "submitted"]
    assert "NetSuite answered 500" in trail[-1]["detail"]["found_after_error"]

    # NetSuite stays down after the upsert: the answer says the order may be there, and so does the record
    tx = draft(rep, disney)
    answer = approve_where_the_read_back_fails(api, rep, tx, emulators, then="stays down")
    assert answer["status"] == 502 and "Whether NetSuite has the order is not known" in answer["detail"], answer
    (order,) = orders_with_external_id(emulators, tx["external_id"])
    shown = rep.get(f"/api/v1/transactions/{tx['id']}").json()
    assert shown["status"] == "failed" and "not known" in shown["last_error"]
    # a rejection while NetSuite cannot be asked rejects nothing
    refused = rep.post(f"/api/v1/transactions/{tx['id']}/reject", json={"reason": "customer cancelled"})
    assert refused.status_code == 502 and "nothing was rejected" in refused.json()["detail"], refused.text
    assert refused.json()["transaction"]["status"] == "failed"
    assert netsuite_status(emulators, order["id"]) == "B"  # pending fulfilment, its stock committed
    clean_faults.reset_faults()
    # NetSuite back: the rejection finds the order and closes it in NetSuite through its API
    rejected = rep.post(f"/api/v1/transactions/{tx['id']}/reject", json={"reason": "customer cancelled"})
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert body["status"] == "rejected" and body["netsuite_closed_at"]
    assert body["netsuite"] == {"id": str(order["id"]), "number": order["tranid"]}
    assert netsuite_status(emulators, order["id"]) == "H"  # closed, in NetSuite's own store
    assert [a["action"] for a in body["audit"]][-3:] == ["reject_refused", "closed_in_netsuite", "reject"]
    assert rep.post(f"/api/v1/transactions/{tx['id']}/approve").status_code == 409
    assert len(orders_with_external_id(emulators, tx["external_id"])) == 1

    # an order NetSuite will not close (billed meanwhile): the rejection is refused, the order recorded
    tx = draft(rep, disney)
    answer = approve_where_the_read_back_fails(api, rep, tx, emulators, then="stays down")
    assert answer["status"] == 502, answer
    clean_faults.reset_faults()
    (order,) = orders_with_external_id(emulators, tx["external_id"])
    emulators.admin("netsuite", "PATCH", f"records/transaction/{order['id']}", {"status": "G"})
    refused = rep.post(f"/api/v1/transactions/{tx['id']}/reject")
    assert refused.status_code == 409, refused.text
    assert f"the order is in NetSuite as {order['tranid']}" in refused.json()["detail"]
    shown = rep.get(f"/api/v1/transactions/{tx['id']}").json()
    assert shown["status"] == "submitted" and shown["netsuite"] == {"id": str(order["id"]), "number": order["tranid"]}
    assert netsuite_status(emulators, order["id"]) == "G"


def test_rejected_drafts_stay_rejected_and_finance_cannot_write(api, rep, disney):
    tx = draft(rep, disney)
    assert rep.post(f"/api/v1/transactions/{tx['id']}/reject", json={"reason": "duplicate"}).json()["status"] == "rejected"
    assert rep.post(f"/api/v1/transactions/{tx['id']}/approve").status_code == 409
    assert rep.patch(f"/api/v1/transactions/{tx['id']}", json={"memo": "x"}).status_code == 409
    with api.as_role("finance_viewer") as finance:
        assert finance.post("/api/v1/transactions/create", json={"sentence": SEED_SENTENCE}).status_code == 403
        assert finance.post(f"/api/v1/transactions/{tx['id']}/approve").status_code == 403
        assert finance.get(f"/api/v1/transactions/{tx['id']}").status_code == 200  # read-only, sees everything
    other = scope_for("sales_rep", rep_id="005-someone-else", territory="Nowhere")
    with api.client(mint(other)) as stranger:
        assert stranger.get(f"/api/v1/transactions/{tx['id']}").status_code == 404
        assert stranger.post(f"/api/v1/transactions/{tx['id']}/approve").status_code == 404


# --- issue 17.8: stock summed per item; price, stock and credit checked again at approval --------------------


def lines_of(client, disney, *lines) -> dict:
    response = client.post("/api/v1/orders", json={
        "customer_id": disney["customer"]["customer_id"],
        "lines": [{"product_id": product_id, "quantity": quantity, "unit_price": price}
                  for product_id, quantity, price in lines]})
    assert response.status_code == 201, response.text
    return response.json()


def test_two_lines_of_one_item_are_checked_against_its_stock_together(api, rep, disney, marts, emulators):
    """Two lines of the same item, each within stock, together twice the stock, were approved and sent."""
    headroom = float(disney["customer"]["credit_limit"]) - float(disney["customer"]["open_balance"])
    item, other = marts(
        "SELECT product_id, quantity_available, min_price FROM marts.dim_products WHERE is_active "
        "AND quantity_available >= 2 AND min_price > 0 ORDER BY quantity_available * min_price, product_id LIMIT 2")
    each = int(item["quantity_available"]) // 2 + 1  # within stock alone, over it together
    assert each <= item["quantity_available"] < 2 * each
    assert 2 * each * item["min_price"] + each * other["min_price"] < headroom, "the case needs credit to spare"

    alone = lines_of(rep, disney, (item["product_id"], each, item["min_price"]))
    assert alone["valid"] and not failed(alone), alone["checks"]
    with_another = lines_of(rep, disney, (item["product_id"], each, item["min_price"]),
                            (other["product_id"], 1, other["min_price"]))
    assert with_another["valid"], with_another["checks"]

    tx = lines_of(rep, disney, (item["product_id"], each, item["min_price"]),
                  (other["product_id"], 1, other["min_price"]), (item["product_id"], each, item["min_price"]))
    assert not tx["valid"] and failed(tx) == {"line 1 stock", "line 3 stock"}, tx["checks"]
    message = tx["checks"]["lines"][0]["stock"]["message"]
    assert f"{2 * each:,} asked on lines 1, 3 together" in message and f"only {item['quantity_available']:,.0f}" \
        in message
    refused = rep.post(f"/api/v1/transactions/{tx['id']}/approve")
    assert refused.status_code == 422 and "line 1 stock" in refused.json()["detail"]
    assert orders_with_external_id(emulators, tx["external_id"]) == []


def netsuite_row(emulators, table: str, where: str, params: tuple) -> list[dict]:
    with sqlite3.connect(f"file:{emulators.netsuite_store}?mode=ro", uri=True) as store:
        store.row_factory = sqlite3.Row
        return [dict(r) for r in store.execute(f'SELECT * FROM "{table}" WHERE {where}', params)]


@contextlib.contextmanager
def changed_in_netsuite(emulators, table: str, rows: dict[str, dict], fields: dict):
    """Change rows of the NetSuite emulator's store (``rows``: key -> the row as it is), as a NetSuite user
    would between the draft and its approval; put them back afterwards."""
    for key in rows:
        emulators.admin("netsuite", "PATCH", f"records/{table}/{key}", fields)
    try:
        yield
    finally:
        for key, row in rows.items():
            emulators.admin("netsuite", "PATCH", f"records/{table}/{key}", {name: row[name] for name in fields})


def world_changes(emulators, disney, quantity: int) -> dict:
    """Each change that makes a draft of ``quantity`` hats at 50 fail one check: (table, rows, fields)."""
    hat, customer = disney["hat"]["product_id"], disney["customer"]["netsuite_customer_id"]
    stock = {f"{r['item']}:{r['location']}": r for r in
             netsuite_row(emulators, "inventoryitemlocations", "item = ?", (int(hat),))}
    item = {str(hat): netsuite_row(emulators, "item", "id = ?", (int(hat),))[0]}
    account = {str(customer): netsuite_row(emulators, "customer", "id = ?", (int(customer),))[0]}
    balance = float(account[str(customer)]["balance"] or 0)
    return {
        "line 1 stock": ("inventoryitemlocations", stock, {"quantityavailable": quantity / (2 * len(stock))}),
        "line 1 price": ("item", item, {"custitem_scc_min_price": 50.01}),
        "credit": ("customer", account, {"creditlimit": balance + quantity * 50 - 1}),
    }


@pytest.mark.parametrize("check", ["line 1 stock", "line 1 price", "credit"])
def test_the_checks_run_again_at_approval(api, rep, disney, emulators, check):
    """The world may change between the draft and its approval (stock sold elsewhere, a price raised, credit
    lowered): approval checks again on NetSuite as it is then, and sends nothing when a check fails."""
    quantity = 10
    tx = draft(rep, disney, quantity=quantity, price=50.0)
    assert tx["valid"], tx["checks"]
    table, rows, fields = world_changes(emulators, disney, quantity)[check]
    with changed_in_netsuite(emulators, table, rows, fields):
        refused = rep.post(f"/api/v1/transactions/{tx['id']}/approve")
        assert refused.status_code == 422, refused.text
        detail = refused.json()["detail"]
        assert check in detail and "nothing was sent to NetSuite" in detail, detail
        assert orders_with_external_id(emulators, tx["external_id"]) == []
        now = rep.get(f"/api/v1/transactions/{tx['id']}").json()
        assert now["status"] == "draft" and not now["valid"] and failed(now) == {check}, now["checks"]
        assert [a["action"] for a in now["audit"]] == ["create", "approve", "approve_refused"]
        again = rep.post(f"/api/v1/transactions/{tx['id']}/approve")  # still refused, still nothing sent
        assert again.status_code == 422 and check in again.json()["detail"]
        assert orders_with_external_id(emulators, tx["external_id"]) == []
    # the world back as it was: the person checks the draft again (an edit) and approves it: one order
    edited = rep.patch(f"/api/v1/transactions/{tx['id']}", json={"memo": "checked again"})
    assert edited.status_code == 200 and edited.json()["valid"], edited.text
    approved = rep.post(f"/api/v1/transactions/{tx['id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "submitted", approved.text
    (order,) = orders_with_external_id(emulators, tx["external_id"])
    assert order["lines"] == [{"item": int(disney["hat"]["product_id"]), "quantity": float(quantity), "rate": 50.0}]


def test_a_draft_edited_from_the_chat_becomes_the_netsuite_order(api, rep, disney, emulators):
    """Ask for a draft, edit it in the conversation ("make it 60", "change the price to $45"), then submit
    the edited draft: NetSuite's order has the edited quantity and price."""
    first = rep.post("/api/v1/query/ask", json={"question": "Create a sales order for Disney, 50 hats, $50 each"}).json()
    assert first["draft"]["lines"][0]["quantity"] == 50, first["text"]
    conversation = first["conversation_id"]
    more = rep.post("/api/v1/query/ask", json={"question": "make it 60", "conversation_id": conversation}).json()
    cheaper = rep.post("/api/v1/query/ask", json={"question": "change the price to $45",
                                                  "conversation_id": conversation}).json()
    (line,) = cheaper["draft"]["lines"]
    assert more["draft"]["lines"][0]["quantity"] == 60 and (line["quantity"], line["unit_price"]) == (60, 45.0)
    assert "60 ×" in cheaper["text"] and "$45.00" in cheaper["text"]
    created = rep.post("/api/v1/orders", json={
        "customer_id": cheaper["draft"]["customer"]["customer_id"],
        "lines": [{"product_id": line["product_id"], "quantity": line["quantity"], "unit_price": line["unit_price"]}],
    })
    assert created.status_code == 201, created.text
    tx = created.json()
    approved = rep.post(f"/api/v1/transactions/{tx['id']}/approve")
    assert approved.status_code == 200, approved.text
    (order,) = orders_with_external_id(emulators, tx["external_id"])
    assert order["lines"] == [{"item": int(line["product_id"]), "quantity": 60.0, "rate": 45.0}]
