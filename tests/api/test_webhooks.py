"""Webhooks: HMAC-verified (401 otherwise), each event processed once, handed to orchestration."""

from __future__ import annotations

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from api.events import claim_change_events, mark_change_events_processed, release_change_events
from emulators.server import WebhookRelay

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


def post(client, vendor: str, event: dict, key: bytes | None = None, body: bytes | None = None):
    """POST an event the way the emulators' relay does (same signing code, same headers)."""
    raw = json.dumps(event, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json",
               WebhookRelay.SIGNATURE_HEADER: WebhookRelay.sign(key or secret(), raw),
               WebhookRelay.EVENT_ID_HEADER: WebhookRelay.event_id(vendor, event)}
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
