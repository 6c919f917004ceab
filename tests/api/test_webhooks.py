"""Webhooks: HMAC-verified over event id, timestamp and body (401 otherwise), fresh (a replay is refused or a
duplicate), bounded JSON (400), each event processed once, handed to orchestration."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.events import claim_change_events, mark_change_events_processed, release_change_events
from api.webhook_signature import event_id_of, signed_headers

pytestmark = pytest.mark.slow


def secret() -> bytes:
    from scc.config import get_settings

    return get_settings().webhook_secret.get_secret_value().encode()


def netsuite_event(record_id="25001", action="update") -> dict:
    return {"eventId": str(uuid.uuid4()), "recordType": "salesOrder", "recordId": record_id, "action": action,
            "changedFields": ["status"], "timestamp": "2026-05-20T10:00:00Z"}


def salesforce_event(opportunity_id: str, stage="Closed Won") -> dict:
    return {"ChangeEventHeader": {"entityName": "Opportunity", "recordIds": [opportunity_id], "changeType": "UPDATE",
                                  "changedFields": ["StageName", "LastModifiedDate"], "commitTimestamp": 1779271200000,
                                  "commitUser": "005000000000001AAA", "sequenceNumber": 1,
                                  "transactionKey": uuid.uuid4().hex},
            "StageName": stage}


def post(client, vendor: str, event, key: bytes | None = None, body: bytes | None = None, signed_at=None,
         event_id: str | None = None):
    """POST an event the way the emulators' relay does (the same signing function, the same headers)."""
    raw = json.dumps(event, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json",
               **signed_headers(key or secret(), event_id or event_id_of(vendor, event), raw, now=signed_at)}
    return client.post(f"/webhooks/{vendor}", content=body if body is not None else raw, headers=headers)


def drain() -> None:
    while batch := claim_change_events(limit=1000):
        mark_change_events_processed([e["id"] for e in batch])


def test_a_bad_signature_is_refused(api):
    event = netsuite_event()
    with api.client() as client:
        assert post(client, "netsuite", event, key=b"not-the-secret").status_code == 401
        tampered = json.dumps({**event, "recordId": "1"}).encode()
        assert post(client, "netsuite", event, body=tampered).status_code == 401
        unsigned = client.post("/webhooks/salesforce", json=salesforce_event("006x"))
        assert unsigned.status_code == 401
    drain()
    assert claim_change_events() == []  # nothing refused was handed on


def test_a_replayed_event_is_processed_once(api):
    drain()
    ns, sf = netsuite_event(), salesforce_event("006000000000000AAA", stage="Negotiation/Review")
    with api.client() as client:
        first = post(client, "netsuite", ns)
        assert first.status_code == 200 and first.json()["accepted"] == 1
        with ThreadPoolExecutor(10) as pool:  # the relay retrying, all at once
            replies = list(pool.map(lambda _: post(client, "netsuite", ns), range(10)))
        assert all(r.status_code == 200 and r.json() == {**r.json(), "accepted": 0, "duplicates": 1} for r in replies)
        assert post(client, "salesforce", sf).json()["accepted"] == 1
    batch = claim_change_events()
    assert sorted((e["vendor"], e["object_type"], tuple(e["record_ids"]), e["change_type"]) for e in batch) == [
        ("netsuite", "salesOrder", ("25001",), "UPDATE"),
        ("salesforce", "Opportunity", ("006000000000000AAA",), "UPDATE"),
    ]
    assert batch[0]["payload"]["eventId"] == ns["eventId"]
    assert claim_change_events() == []  # claimed once: a second consumer gets nothing
    release_change_events([batch[0]["id"]])  # a failed run gives its events back
    again = claim_change_events()
    assert [e["id"] for e in again] == [batch[0]["id"]]
    mark_change_events_processed([e["id"] for e in batch])
    with api.client() as client:
        assert post(client, "netsuite", ns).json()["duplicates"] == 1  # processed events stay processed
    assert claim_change_events() == []


def test_a_won_deal_is_pushed_to_the_dashboards_that_cover_it(api, people_scopes, marts):
    import websockets.sync.client as ws_client

    from .helpers import mint

    execs, manager, rep = people_scopes
    deal = marts("SELECT opportunity_id, amount FROM marts.fct_opportunities WHERE rep_id = ? AND NOT is_closed "
                 "ORDER BY opportunity_id LIMIT 1", [rep.rep_id])
    if not deal:
        pytest.skip("the rep has no open deal in this company")
    url = api.url.replace("http", "ws") + "/ws/dashboard?token="
    with ws_client.connect(url + mint(rep), open_timeout=15) as ws:
        assert json.loads(ws.recv(timeout=15))["type"] == "hello"
        assert json.loads(ws.recv(timeout=15))["type"] == "snapshot"
        with api.client() as client:
            assert post(client, "salesforce", salesforce_event(deal[0]["opportunity_id"])).status_code == 200
        message = json.loads(ws.recv(timeout=15))
        assert message["type"] == "event" and message["kind"] == "deal_won"
        assert message["data"]["opportunity_id"] == deal[0]["opportunity_id"]
    drain()


def pending_for(record_id: str) -> list[dict]:
    """The events waiting for orchestration about one record (claimed and given back: left as they were)."""
    batch = claim_change_events(limit=1000)
    release_change_events([e["id"] for e in batch])
    return [e for e in batch if record_id in e["record_ids"]]


def test_a_captured_delivery_replayed_with_fresh_ids_is_refused(api):
    """Issue 17.6: the event id came from an unsigned header, so a replay with fresh ids was processed again
    (5 out of 5). The id and the time are signed now: a changed id fails the signature, the same id is a
    duplicate, and the event waits for orchestration once."""
    drain()
    record = str(uuid.uuid4().int % 10**8)
    event = netsuite_event(record_id=record)
    raw = json.dumps(event, separators=(",", ":")).encode()
    captured = {"Content-Type": "application/json", **signed_headers(secret(), event["eventId"], raw)}
    with api.client() as client:
        assert client.post("/webhooks/netsuite", content=raw, headers=captured).json()["accepted"] == 1
        for _ in range(5):
            replay = {**captured, "X-SCC-Event-Id": str(uuid.uuid4())}
            refused = client.post("/webhooks/netsuite", content=raw, headers=replay)
            assert refused.status_code == 401 and "X-SCC-Signature" in refused.json()["detail"], refused.text
        for _ in range(3):  # as captured: acknowledged, not stored again
            again = client.post("/webhooks/netsuite", content=raw, headers=captured)
            assert again.status_code == 200 and again.json()["accepted"] == 0 and again.json()["duplicates"] == 1
        resigned = post(client, "netsuite", event)  # the sender's own retry, signed anew: same id, a duplicate
        assert resigned.json()["duplicates"] == 1
    assert len(pending_for(record)) == 1


def test_a_replayed_closed_won_is_pushed_once(api, people_scopes, marts):
    import websockets.sync.client as ws_client

    from .helpers import mint

    execs, _, _ = people_scopes
    deal = marts("SELECT opportunity_id FROM marts.fct_opportunities WHERE NOT is_closed ORDER BY opportunity_id "
                 "LIMIT 1")[0]["opportunity_id"]
    event = salesforce_event(deal)
    raw = json.dumps(event, separators=(",", ":")).encode()
    captured = {"Content-Type": "application/json", **signed_headers(secret(), event_id_of("salesforce", event), raw)}
    url = api.url.replace("http", "ws") + "/ws/dashboard?token=" + mint(execs)
    with ws_client.connect(url, open_timeout=15) as ws:
        assert json.loads(ws.recv(timeout=15))["type"] == "hello"
        assert json.loads(ws.recv(timeout=15))["type"] == "snapshot"
        with api.client() as client:
            assert client.post("/webhooks/salesforce", content=raw, headers=captured).json()["accepted"] == 1
            for _ in range(3):
                client.post("/webhooks/salesforce", content=raw, headers={**captured, "X-SCC-Event-Id": uuid.uuid4().hex})
                client.post("/webhooks/salesforce", content=raw, headers=captured)
        pushed = [json.loads(ws.recv(timeout=15))]
        while not any(m.get("kind") == "deal_won" for m in pushed):  # the first push, whatever came before it
            pushed.append(json.loads(ws.recv(timeout=15)))
        settle = time.monotonic() + 3  # then three seconds for any second push of the same deal
        while (left := settle - time.monotonic()) > 0:
            try:
                pushed.append(json.loads(ws.recv(timeout=left)))
            except TimeoutError:
                break
    won = [m for m in pushed if m.get("kind") == "deal_won" and m["data"]["opportunity_id"] == deal]
    assert len(won) == 1, pushed
    drain()


def test_stale_or_unsigned_timestamps_are_refused(api):
    drain()
    record = str(uuid.uuid4().int % 10**8)
    with api.client() as client:
        old = post(client, "netsuite", netsuite_event(record_id=record), signed_at=time.time() - 301)
        assert old.status_code == 401 and "300 s" in old.json()["detail"], old.text
        ahead = post(client, "netsuite", netsuite_event(record_id=record), signed_at=time.time() + 400)
        assert ahead.status_code == 401, ahead.text
        recent = post(client, "netsuite", netsuite_event(record_id=record), signed_at=time.time() - 120)
        assert recent.status_code == 200 and recent.json()["accepted"] == 1
        event = netsuite_event(record_id=record)
        raw = json.dumps(event, separators=(",", ":")).encode()
        body_only = "sha256=" + hmac.new(secret(), raw, hashlib.sha256).hexdigest()  # the old signature
        for headers in ({"X-SCC-Signature": body_only, "X-SCC-Event-Id": event["eventId"]},
                        {k: v for k, v in signed_headers(secret(), event["eventId"], raw).items()
                         if k != "X-SCC-Timestamp"},
                        {**signed_headers(secret(), event["eventId"], raw), "X-SCC-Timestamp": "soon"}):
            response = client.post("/webhooks/netsuite", content=raw, headers={"Content-Type": "application/json",
                                                                              **headers})
            assert response.status_code == 401, (headers, response.text)
    assert len(pending_for(record)) == 1  # only the fresh one


def test_a_list_of_events_is_stored_under_the_ids_inside_the_signed_body(api):
    drain()
    record = str(uuid.uuid4().int % 10**8)
    events = [netsuite_event(record_id=record), netsuite_event(record_id=record, action="delete")]
    with api.client() as client:
        first = post(client, "netsuite", events, event_id="batch-1")
        assert first.json()["accepted"] == 2 and set(first.json()["event_ids"]) == {e["eventId"] for e in events}
        assert post(client, "netsuite", events, event_id="batch-2").json()["duplicates"] == 2
        nameless = post(client, "netsuite", [*events, {"recordType": "salesOrder"}], event_id="batch-3")
        assert nameless.status_code == 400 and "eventId" in nameless.json()["detail"]
    assert sorted(e["change_type"] for e in pending_for(record)) == ["DELETE", "UPDATE"]


def test_malformed_signed_bodies_get_a_plain_400(api):
    """Issue 17.7: a signed body nested 100,000 deep raised RecursionError (500)."""
    drain()
    deep = b'{"eventId":"' + uuid.uuid4().hex.encode() + b'","x":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    cases = {
        "nested 100,000 deep": deep,
        "nested 33 deep": b'{"eventId":"e1","x":' + b"[" * 32 + b"]" * 32 + b"}",
        "NaN": b'{"eventId":"e2","recordId":NaN}',
        "Infinity": b'{"eventId":"e3","recordId":-Infinity}',
        "too large a number": b'{"eventId":"e4","recordId":1e999}',
        "not JSON": b'{"eventId":"e5",',
        "not UTF-8": b'{"eventId":"\xff\xfe"}',
        "a field of the wrong shape": b'{"eventId":"e6","recordType":{"a":[1,2]}}',
        "a list of numbers": b"[1,2,3]",
    }
    with api.client() as client:
        for (name, body), content_type in itertools.product(cases.items(), ("application/json", "text/plain")):
            headers = {"Content-Type": content_type, **signed_headers(secret(), "delivery-1", body)}
            response = client.post("/webhooks/netsuite", content=body, headers=headers)
            assert response.status_code == 400, (name, content_type, response.status_code, response.text[:300])
            detail = response.json()["detail"]
            assert isinstance(detail, str) and len(detail) < 300, name
            assert body[:12].decode(errors="replace") not in detail and "[[" not in detail, (name, detail)
        sf_deep = json.dumps(salesforce_event("006x")).encode()[:-1] + b',"y":' + b"{\"a\":" * 50 + b"1" + b"}" * 51
        headers = {"Content-Type": "application/json", **signed_headers(secret(), "delivery-2", sf_deep)}
        assert client.post("/webhooks/salesforce", content=sf_deep, headers=headers).status_code == 400
        shallow = {**netsuite_event(), "nested": [[[["fine"]]]]}
        assert post(client, "netsuite", shallow).json()["accepted"] == 1  # ordinary nesting is welcome
    assert [e["event_id"] for e in claim_change_events()] == [shallow["eventId"]]
    drain()
