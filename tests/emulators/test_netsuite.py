"""The NetSuite emulator over real HTTP, with a real OAuth 1.0a client (requests-oauthlib).

Gold values come from the SQLite store itself, read with plain SQL, never from the emulator's code.
"""

from __future__ import annotations

import datetime as dt
import socket
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
import uvicorn
from requests_oauthlib import OAuth1

from emulators.faults import FaultInjector
from emulators.netsuite.app import create_app
from emulators.netsuite.sample import fill_sample_store
from emulators.schema import NETSUITE_STATUS_LABELS
from scc.config import Settings

ACCOUNT_ID = "TSTDRV1234567"
CONSUMER_KEY, CONSUMER_SECRET = "test-consumer-key", "test-consumer-secret"
TOKEN_ID, TOKEN_SECRET = "test-token-id", "test-token-secret"
TRANSIENT = {"Prefer": "transient"}
INVALID_LOGIN_BODY = {
    "type": "https://www.rfc-editor.org/rfc/rfc9110.html#section-15.5.2",
    "title": "Unauthorized",
    "status": 401,
    "o:errorDetails": [
        {
            "detail": "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
            "Setup > Users/Roles > User Management > View Login Audit Trail.",
            "o:errorCode": "INVALID_LOGIN",
        }
    ],
}


def _auth(**kw) -> OAuth1:
    args = {
        "client_key": CONSUMER_KEY,
        "client_secret": CONSUMER_SECRET,
        "resource_owner_key": TOKEN_ID,
        "resource_owner_secret": TOKEN_SECRET,
        "signature_method": "HMAC-SHA256",
        "realm": ACCOUNT_ID,
    }
    args.update(kw)
    return OAuth1(**args)


def _wait_for(condition, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Emulator:
    def __init__(self, root: str, store_path: Path, app):
        self.root = root
        self.base = root + "/services/rest"
        self.store_path = store_path
        self.app = app
        self.session = requests.Session()
        self.session.auth = _auth()

    def suiteql(self, q: str, limit: int = 1000, offset: int = 0, session=None, url=None):
        s = session or self.session
        return s.post(
            url or f"{self.base}/query/v1/suiteql?limit={limit}&offset={offset}",
            json={"q": q},
            headers=TRANSIENT,
            timeout=30,
        )

    def gold(self, sql: str, params=()):
        conn = sqlite3.connect(f"file:{self.store_path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def admin(self, method: str, path: str, **kw):
        return requests.request(method, f"{self.root}/__admin/{path}", timeout=30, **kw)


@pytest.fixture(scope="module")
def ns(tmp_path_factory):
    store_path = fill_sample_store(tmp_path_factory.mktemp("netsuite") / "netsuite.sqlite", orders=2500)
    settings = Settings(
        netsuite_account_id=ACCOUNT_ID,
        netsuite_consumer_key=CONSUMER_KEY,
        netsuite_consumer_secret=CONSUMER_SECRET,
        netsuite_token_id=TOKEN_ID,
        netsuite_token_secret=TOKEN_SECRET,
        netsuite_concurrency_limit=15,
    )
    app = create_app(store_path, settings, FaultInjector())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    _wait_for(lambda: server.started, what="the NetSuite emulator to start")
    try:
        yield Emulator(f"http://127.0.0.1:{port}", store_path, app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def clean_faults(ns):
    yield
    ns.admin(
        "POST",
        "faults",
        json={"latency_ms": 0, "latency_jitter_ms": 0, "error_rate": 0, "drop_rate": 0, "rate_limit_rate": 0},
    )
    ns.admin("POST", "concurrency", json={"limit": 15})


# --- authentication -----------------------------------------------------------------------------


def test_valid_call(ns):
    r = ns.suiteql("SELECT id, tranid FROM transaction WHERE id = 1")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["count"] == 1 and body["totalResults"] == 1 and body["hasMore"] is False
    (tranid,) = ns.gold('SELECT tranid FROM "transaction" WHERE id = 1')[0]
    assert body["items"] == [{"links": [], "id": "1", "tranid": tranid}]


def test_bad_signature_is_invalid_login(ns):
    s = requests.Session()
    s.auth = _auth(client_secret="not-the-secret")
    r = ns.suiteql("SELECT id FROM transaction", session=s)
    assert r.status_code == 401
    assert r.json() == INVALID_LOGIN_BODY


def test_unknown_token_and_sha1_rejected(ns):
    for auth in (_auth(resource_owner_key="nope"), _auth(signature_method="HMAC-SHA1"), _auth(realm="OTHER")):
        s = requests.Session()
        s.auth = auth
        r = ns.suiteql("SELECT id FROM transaction", session=s)
        assert r.status_code == 401 and r.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"


def test_replayed_nonce_rejected(ns):
    s = requests.Session()
    req = requests.Request(
        "POST",
        f"{ns.base}/query/v1/suiteql?limit=5",
        json={"q": "SELECT id FROM item"},
        headers=TRANSIENT,
        auth=_auth(),
    )
    prepared = s.prepare_request(req)
    assert s.send(prepared, timeout=10).status_code == 200
    again = s.send(prepared, timeout=10)
    assert again.status_code == 401 and again.json() == INVALID_LOGIN_BODY


def test_stale_timestamp_rejected(ns):
    s = requests.Session()
    s.auth = _auth(timestamp=str(int(time.time()) - 600))
    assert ns.suiteql("SELECT id FROM item", session=s).status_code == 401
    s.auth = _auth(timestamp=str(int(time.time()) - 30))
    assert ns.suiteql("SELECT id FROM item", session=s).status_code == 200


# --- SuiteQL ------------------------------------------------------------------------------------


def _as_text(v):
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def test_paging_follows_links_to_the_last_page(ns):
    q = "SELECT id, tranid, status, foreigntotal, memo FROM transaction ORDER BY id"
    gold = ns.gold('SELECT id, tranid, status, foreigntotal, memo FROM "transaction" ORDER BY id')
    expected = [
        {
            "links": [],
            **{
                k: _as_text(v)
                for k, v in zip(("id", "tranid", "status", "foreigntotal", "memo"), row)
                if v is not None
            },
        }
        for row in gold
    ]
    items, url, pages = [], None, 0
    while True:
        r = ns.suiteql(q, limit=1000, url=url)
        assert r.status_code == 200, r.text
        body = r.json()
        links = {link["rel"]: link["href"] for link in body["links"]}
        assert body["totalResults"] == len(gold)
        assert body["offset"] == pages * 1000 and body["count"] == len(body["items"])
        assert links["self"].endswith(f"limit=1000&offset={pages * 1000}")
        assert links["first"].endswith("limit=1000&offset=0")
        assert links["last"].endswith(f"limit=1000&offset={(len(gold) - 1) // 1000 * 1000}")
        assert ("previous" in links) == (pages > 0)
        items += body["items"]
        pages += 1
        if not body["hasMore"]:
            assert "next" not in links
            break
        assert body["count"] == 1000
        url = links["next"]
        assert url.startswith("http://127.0.0.1:")
    assert pages == (len(gold) + 999) // 1000
    assert items == expected


def test_keyset_paging(ns):
    gold = [
        row[0]
        for row in ns.gold("SELECT uniquekey FROM transactionline WHERE mainline = 'F' ORDER BY uniquekey")
    ]
    seen, last = [], 0
    while True:
        r = ns.suiteql(
            f"SELECT tl.uniquekey, tl.item FROM transactionline tl WHERE tl.uniquekey > {last} "
            "AND tl.mainline = 'F' ORDER BY tl.uniquekey FETCH FIRST 3000 ROWS ONLY"
        )
        body = r.json()
        assert r.status_code == 200 and body["count"] <= 1000
        if not body["items"]:
            break
        seen += [int(i["uniquekey"]) for i in body["items"]]
        last = seen[-1]
    assert seen == gold


def test_builtin_df_labels(ns):
    r = ns.suiteql(
        "SELECT t.id, t.type, t.status, BUILTIN.DF(t.status) AS label, BUILTIN.DF(t.entity) AS customer "
        "FROM transaction t WHERE t.id <= 300 ORDER BY t.id"
    )
    items = r.json()["items"]
    names = dict(ns.gold("SELECT id, companyname FROM customer"))
    entities = dict(ns.gold('SELECT id, entity FROM "transaction" WHERE id <= 300'))
    assert len(items) == len(entities)
    for item in items:
        prefix, labels = NETSUITE_STATUS_LABELS[item["type"]]
        assert item["label"] == f"{prefix} : {labels[item['status']]}"
        assert item["customer"] == names[entities[int(item["id"])]]
    open_invoices = ns.suiteql(
        "SELECT BUILTIN.DF(status) AS label FROM transaction WHERE type = 'CustInvc' AND status = 'A'",
        limit=1,
    ).json()["items"]
    labels = {i["label"] for i in items} | {i["label"] for i in open_invoices}
    assert {"Sales Order : Pending Fulfillment", "Invoice : Open"} <= labels


def test_dates_and_to_char(ns):
    tid, trandate, modified = ns.gold(
        'SELECT id, trandate, lastmodifieddate FROM "transaction" '
        "WHERE type = 'SalesOrd' ORDER BY id LIMIT 1 OFFSET 17"
    )[0]
    r = ns.suiteql(
        "SELECT trandate, lastmodifieddate, TO_CHAR(lastmodifieddate, 'YYYY-MM-DD\"T\"HH24:MI:SS') AS lm, "
        f"TO_CHAR(trandate, 'MM/DD/YYYY') AS td FROM transaction WHERE id = {tid}"
    )
    item = r.json()["items"][0]
    d = dt.date.fromisoformat(trandate)
    m = dt.datetime.strptime(modified, "%Y-%m-%d %H:%M:%S")
    assert item["trandate"] == f"{d.month}/{d.day}/{d.year}"
    assert item["lastmodifieddate"] == f"{m.month}/{m.day}/{m.year}"
    assert item["lm"] == m.strftime("%Y-%m-%dT%H:%M:%S")
    assert item["td"] == d.strftime("%m/%d/%Y")
    # incremental-style filter on a datetime, and a date compared with a NetSuite-format literal
    cut = m.strftime("%Y-%m-%d %H:%M:%S")
    r = ns.suiteql(
        f"SELECT COUNT(*) AS n FROM transaction WHERE lastmodifieddate > "
        f"TO_DATE('{cut}', 'YYYY-MM-DD HH24:MI:SS')"
    )
    (n,) = ns.gold('SELECT COUNT(*) FROM "transaction" WHERE lastmodifieddate > ?', (cut,))[0]
    assert r.json()["items"][0]["n"] == str(n)
    r = ns.suiteql(f"SELECT COUNT(*) AS n FROM transaction WHERE trandate >= '{d.month}/{d.day}/{d.year}'")
    (n,) = ns.gold('SELECT COUNT(*) FROM "transaction" WHERE trandate >= ?', (trandate,))[0]
    assert r.json()["items"][0]["n"] == str(n)


def test_joins_groups_and_functions(ns):
    r = ns.suiteql(
        "SELECT c.id, c.companyname, COUNT(*) AS orders, SUM(t.foreigntotal) AS total FROM transaction t "
        "INNER JOIN customer c ON c.id = t.entity WHERE t.type = 'SalesOrd' AND t.status IN ('B', 'D') "
        "GROUP BY c.id, c.companyname ORDER BY orders DESC, c.id FETCH FIRST 5 ROWS ONLY"
    )
    body = r.json()
    gold = ns.gold(
        'SELECT c.id, COUNT(*) FROM "transaction" t JOIN customer c ON c.id = t.entity '
        "WHERE t.type = 'SalesOrd' AND t.status IN ('B', 'D') GROUP BY c.id ORDER BY 2 DESC, c.id LIMIT 5"
    )
    assert body["totalResults"] == 5
    assert [(int(i["id"]), int(i["orders"])) for i in body["items"]] == gold
    r = ns.suiteql(
        "SELECT NVL(memo, 'none') || '/' || tranid AS x, CASE WHEN foreigntotal > 1000 THEN 'big' "
        "ELSE 'small' END AS size FROM transaction WHERE ROWNUM <= 3 AND memo IS NOT NULL"
    )
    assert r.json()["count"] == 3 and all(
        "/" in i["x"] and i["size"] in ("big", "small") for i in r.json()["items"]
    )


def test_malformed_suiteql_is_invalid_parameter(ns):
    for q, needle in [
        ("SELECT id FROM transaction WHERE", "Parse of query string failed"),
        ("SELECT foo FROM transaction", "Field 'foo' for record 'transaction' was not found"),
        ("SELECT id FROM nothere", "Record 'nothere' was not found"),
    ]:
        r = ns.suiteql(q)
        assert r.status_code == 400, q
        detail = r.json()["o:errorDetails"][0]
        assert detail["o:errorCode"] == "INVALID_PARAMETER" and detail["o:errorQueryParam"] == "q"
        assert detail["detail"].startswith("Invalid search query.") and needle in detail["detail"], detail
    r = ns.session.post(f"{ns.base}/query/v1/suiteql", json={"q": "SELECT id FROM item"}, timeout=10)
    assert r.status_code == 400  # no Prefer: transient
    assert ns.suiteql("SELECT id FROM item", limit=1001).status_code == 400
    r = ns.suiteql("SELECT id FROM item", limit=1000, offset=99_500)
    assert r.status_code == 400 and "100" in r.json()["o:errorDetails"][0]["detail"]


# --- record service -----------------------------------------------------------------------------


def _stock(ns, item, location):
    return ns.gold(
        "SELECT quantityonhand, quantitycommitted, quantityavailable FROM inventoryitemlocations "
        "WHERE item = ? AND location = ?",
        (item, location),
    )[0]


def test_create_and_read_back(ns):
    item, location = ns.gold(
        "SELECT item, location FROM inventoryitemlocations "
        "WHERE quantityonhand - quantitycommitted >= 5 ORDER BY item LIMIT 1"
    )[0]
    before = _stock(ns, item, location)
    payload = {
        "entity": {"id": "1001"},
        "tranDate": "2024-07-01",
        "externalId": "CREATE-1",
        "memo": "from test",
        "item": {
            "items": [
                {"item": {"id": str(item)}, "quantity": 3, "rate": 10.5, "location": {"id": str(location)}}
            ]
        },
    }
    r = ns.session.post(f"{ns.base}/record/v1/salesOrder", json=payload, timeout=10)
    assert r.status_code == 204 and r.text == ""
    location_url = r.headers["Location"]
    assert location_url.startswith(f"{ns.base}/record/v1/salesOrder/")
    new_id = int(location_url.rsplit("/", 1)[1])
    r = ns.session.get(location_url, params={"expandSubResources": "true"}, timeout=10)
    assert r.status_code == 200
    rec = r.json()
    assert rec["id"] == str(new_id) and rec["externalId"] == "CREATE-1" and rec["memo"] == "from test"
    assert rec["entity"]["id"] == "1001" and rec["entity"]["refName"] == "Customer 1 Inc"
    assert rec["status"] == {"id": "B", "refName": "Pending Fulfillment"}
    assert rec["tranDate"] == "2024-07-01" and rec["total"] == 31.5
    (line,) = rec["item"]["items"]
    assert (line["item"]["id"], line["quantity"], line["rate"], line["amount"]) == (
        str(item),
        3.0,
        10.5,
        31.5,
    )
    assert line["quantityFulfilled"] == 0 and line["quantityBilled"] == 0
    tranid, status, total = ns.gold(
        'SELECT tranid, status, foreigntotal FROM "transaction" WHERE id = ?', (new_id,)
    )[0]
    assert rec["tranId"] == tranid and status == "B" and total == 31.5
    after = _stock(ns, item, location)
    assert after[1] == before[1] + 3 and after[2] == before[2] - 3
    plain = ns.session.get(location_url, timeout=10).json()
    assert plain["item"] == {"links": [{"rel": "self", "href": f"{location_url}/item"}]}


def test_create_validation_errors(ns):
    bad_item = {"entity": {"id": "1001"}, "item": {"items": [{"item": {"id": "999999"}, "quantity": 1}]}}
    r = ns.session.post(f"{ns.base}/record/v1/salesOrder", json=bad_item, timeout=10)
    assert r.status_code == 400
    d = r.json()["o:errorDetails"][0]
    assert d["o:errorCode"] == "INVALID_CONTENT" and d["o:errorPath"] == "item.items[0].item"
    r = ns.session.post(f"{ns.base}/record/v1/salesOrder", json={"item": bad_item["item"]}, timeout=10)
    d = r.json()["o:errorDetails"][0]
    assert r.status_code == 400 and d["o:errorCode"] == "FIELD_PARAM_REQD" and d["o:errorPath"] == "entity"


def test_eid_put_twice_is_one_order(ns):
    payload = {
        "entity": {"id": "1002"},
        "memo": "v1",
        "item": {"items": [{"item": {"id": "5001"}, "quantity": 1}]},
    }
    url = f"{ns.base}/record/v1/salesOrder/eid:SF-OPP-1"
    r1 = ns.session.put(url, json=payload, timeout=10)
    r2 = ns.session.put(url, json={**payload, "memo": "v2"}, timeout=10)
    assert r1.status_code == r2.status_code == 204
    assert r1.headers["Location"] == r2.headers["Location"]
    assert ns.gold('SELECT COUNT(*), MAX(memo) FROM "transaction" WHERE externalid = ?', ("SF-OPP-1",))[
        0
    ] == (1, "v2")
    got = ns.session.get(url, timeout=10).json()
    assert got["externalId"] == "SF-OPP-1" and got["memo"] == "v2"


def test_concurrent_eid_puts_create_one_order(ns, clean_faults):
    ns.admin("POST", "concurrency", json={"limit": 50})
    payload = {"entity": {"id": "1003"}, "item": {"items": [{"item": {"id": "5002"}, "quantity": 2}]}}
    barrier = threading.Barrier(20)

    def put(_):
        s = requests.Session()
        s.auth = _auth()
        barrier.wait()
        return s.put(f"{ns.base}/record/v1/salesOrder/eid:SF-OPP-RACE", json=payload, timeout=30)

    with ThreadPoolExecutor(20) as pool:
        results = list(pool.map(put, range(20)))
    assert [r.status_code for r in results] == [204] * 20
    assert len({r.headers["Location"] for r in results}) == 1
    assert ns.gold('SELECT COUNT(*) FROM "transaction" WHERE externalid = ?', ("SF-OPP-RACE",))[0][0] == 1


def test_concurrency_limit_answers_429(ns, clean_faults):
    ns.admin("POST", "concurrency", json={"limit": 3})
    ns.admin("POST", "faults", json={"latency_ms": 400})
    barrier = threading.Barrier(8)

    def call(_):
        s = requests.Session()
        s.auth = _auth()
        barrier.wait()
        return ns.suiteql("SELECT id FROM location", session=s)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(call, range(8)))
    codes = sorted(r.status_code for r in results)
    assert codes.count(200) >= 1 and codes.count(429) >= 1 and set(codes) == {200, 429}, codes
    rejected = next(r for r in results if r.status_code == 429)
    assert rejected.headers["Retry-After"]
    assert rejected.json()["o:errorDetails"][0]["o:errorCode"] == "CONCURRENCY_LIMIT_EXCEEDED"
    assert ns.admin("GET", "stats").json()["concurrency_rejections"] >= 1


def test_injected_faults(ns, clean_faults):
    ns.admin("POST", "faults", json={"error_rate": 1.0})
    r = ns.suiteql("SELECT id FROM location")
    assert r.status_code in (500, 503) and r.json()["status"] == r.status_code
    ns.admin("POST", "faults", json={"error_rate": 0.0, "rate_limit_rate": 1.0})
    r = ns.suiteql("SELECT id FROM location")
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    ns.admin("POST", "faults", json={"rate_limit_rate": 0.0, "drop_rate": 1.0})
    with pytest.raises(requests.exceptions.RequestException):
        ns.suiteql("SELECT id FROM location", session=_fresh_session())


def _fresh_session():
    s = requests.Session()
    s.auth = _auth()
    return s


def test_missing_record_is_404(ns):
    for path in ("salesOrder/99999999", "customer/99999999", "item/99999999", "salesOrder/eid:no-such-order"):
        r = ns.session.get(f"{ns.base}/record/v1/{path}", timeout=10)
        assert r.status_code == 404, path
        assert r.json()["o:errorDetails"][0]["o:errorCode"] == "NONEXISTENT_ID"
    assert (
        ns.session.get(f"{ns.base}/record/v1/customer/1001", timeout=10).json()["companyName"]
        == "Customer 1 Inc"
    )


def test_async_write_and_idempotency_key(ns):
    payload = {"entity": {"id": "1004"}, "item": {"items": [{"item": {"id": "5003"}, "quantity": 1}]}}
    headers = {"Prefer": "respond-async", "X-NetSuite-Idempotency-Key": "key-123"}
    r = ns.session.put(
        f"{ns.base}/record/v1/salesOrder/eid:ASYNC-1", json=payload, headers=headers, timeout=10
    )
    assert r.status_code == 202 and "/async/v1/job/" in r.headers["Location"]
    job_url = r.headers["Location"]
    _wait_for(lambda: ns.session.get(job_url, timeout=10).json()["completed"], what="the async job")
    assert ns.session.get(job_url, timeout=10).json()["progress"] == "succeeded"
    dup = ns.session.put(
        f"{ns.base}/record/v1/salesOrder/eid:ASYNC-1", json=payload, headers=headers, timeout=10
    )
    assert dup.status_code == 400 and dup.json()["o:errorDetails"][0]["o:errorCode"] == "IDEMPOTENCY_ERROR"
    assert ns.gold('SELECT COUNT(*) FROM "transaction" WHERE externalid = ?', ("ASYNC-1",))[0][0] == 1


# --- lifecycle through admin, notifications, clock -----------------------------------------------


def test_fulfil_bill_pay_delete_and_notifications(ns):
    store = ns.app.state.store
    events = []
    store.add_listener(events.append)
    try:
        payload = {"entity": {"id": "1005"}, "item": {"items": [{"item": {"id": "5004"}, "quantity": 4}]}}
        r = ns.session.post(f"{ns.base}/record/v1/salesOrder", json=payload, timeout=10)
        oid = int(r.headers["Location"].rsplit("/", 1)[1])
        newest_before = ns.gold('SELECT MAX(lastmodifieddate) FROM "transaction"')[0][0]
        assert ns.admin("POST", f"salesorders/{oid}/fulfil", json={"fraction": 0.5}).json()["status"] == "E"
        assert ns.gold('SELECT status FROM "transaction" WHERE id = ?', (oid,))[0][0] == "E"
        ns.admin("POST", f"salesorders/{oid}/fulfil")
        assert ns.gold('SELECT status FROM "transaction" WHERE id = ?', (oid,))[0][0] == "F"
        inv = int(ns.admin("POST", f"salesorders/{oid}/bill").json()["invoiceId"])
        rows = ns.suiteql(
            f"SELECT id, BUILTIN.DF(status) AS s, createdfrom FROM transaction WHERE id IN ({oid}, {inv}) "
            "ORDER BY id"
        ).json()["items"]
        assert [r["s"] for r in rows] == ["Sales Order : Billed", "Invoice : Open"]
        assert rows[1]["createdfrom"] == str(oid)
        ns.admin("POST", f"invoices/{inv}/pay")
        assert ns.gold('SELECT status, foreignamountunpaid FROM "transaction" WHERE id = ?', (inv,))[0] == (
            "B",
            0.0,
        )
        stamp = ns.gold('SELECT lastmodifieddate FROM "transaction" WHERE id = ?', (oid,))[0][0]
        assert stamp > newest_before
        # a row changed by the admin PATCH gets a newer stamp
        r = ns.admin("PATCH", "records/customer/1006", json={"phone": "555-9999"})
        assert r.status_code == 200 and r.json()["lastmodifieddate"] > stamp
        # deletion writes deletedrecord (an order with invoices cannot be deleted)
        assert ns.admin("DELETE", f"records/salesOrder/{oid}").status_code == 400
        assert ns.session.delete(f"{ns.base}/record/v1/invoice/{inv}", timeout=10).status_code == 204
        assert ns.admin("DELETE", f"records/salesOrder/{oid}").status_code == 200
        gone = ns.suiteql(
            f"SELECT recordtype FROM deletedrecord WHERE recordid IN ({oid}, {inv}) ORDER BY recordid"
        ).json()["items"]
        assert [g["recordtype"] for g in gone] == ["salesorder", "invoice"]
        assert ns.session.get(f"{ns.base}/record/v1/salesOrder/{oid}", timeout=10).status_code == 404
    finally:
        store.remove_listener(events.append)
    kinds = {(e["recordType"], e["action"]) for e in events}
    assert {
        ("salesOrder", "create"),
        ("salesOrder", "update"),
        ("invoice", "create"),
        ("customer", "update"),
        ("salesOrder", "delete"),
        ("invoice", "delete"),
        ("inventory", "update"),
    } <= kinds
    assert all(e["timestamp"].endswith("Z") and e["eventId"] for e in events)
    stats = ns.admin("GET", "stats").json()
    assert stats["suiteql_pages"] > 0 and stats["record_writes"] > 0
