"""``/webhooks/salesforce`` and ``/webhooks/netsuite``: change events, HMAC-verified, each processed once.

A POST carries one event (or a JSON list of events), signed with the shared secret ``SCC_WEBHOOK_SECRET`` as
:mod:`api.webhook_signature` says: ``X-SCC-Signature`` is the HMAC-SHA256 of the event id
(``X-SCC-Event-Id``), the time of signing (``X-SCC-Timestamp``) and the raw body together. A bad or missing
signature, or one older than ``SCC_WEBHOOK_TOLERANCE_SECONDS``, gets 401; a body that is not bounded JSON 400
or 413. The event is stored under its signed id (the events of a list under their own vendor ids, inside the
signed body), and an id seen before is acknowledged (200) and not handed on again. New events go to
orchestration through :func:`api.events.enqueue_change_events`; a deal moved to Closed Won is also pushed to
the dashboards as a notable event.
"""

from __future__ import annotations

import logging
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from api.bodies import BadJson, parse_json
from api.cache import publish_event
from api.events import describe, enqueue_change_events, event_id_of
from api.webhook_signature import SignatureError, verify

log = logging.getLogger("scc.api.webhooks")
router = APIRouter(prefix="/webhooks", tags=["webhooks"])


async def _receive(request: Request, vendor: Literal["salesforce", "netsuite"]) -> dict:
    settings, metrics = request.app.state.settings, request.app.state.metrics
    body = await request.body()  # at most SCC_API_MAX_BODY_BYTES (api.bodies.BoundedJsonMiddleware)
    try:
        signed_id = verify(settings.webhook_secret.get_secret_value(), body, request.headers,
                           tolerance_seconds=settings.webhook_tolerance_seconds)
    except SignatureError as error:
        metrics.webhooks.labels(vendor, "bad_signature").inc()
        raise HTTPException(401, str(error)) from None
    try:
        payload = parse_json(body, max_bytes=settings.api_max_body_bytes, max_depth=settings.api_json_max_depth)
    except BadJson as error:
        raise HTTPException(error.status, error.message) from None
    events = payload if isinstance(payload, list) else [payload]
    if not events or not all(isinstance(e, dict) for e in events):
        raise HTTPException(400, "expected an event object or a list of them")
    for number, event in enumerate(events, start=1):  # each field of the right type, before anything else
        try:
            describe(vendor, event)
        except ValueError as error:
            raise HTTPException(400, f"event {number}: {error}") from None
    ids = [signed_id] if len(events) == 1 else [event_id_of(vendor, e) for e in events]
    if not all(ids):
        raise HTTPException(400, "each event of a list needs the vendor's own id (NetSuite eventId; Salesforce "
                                 "ChangeEventHeader transactionKey and sequenceNumber)")
    result = await run_in_threadpool(enqueue_change_events, vendor, events, event_ids=ids, db=request.app.state.db)
    metrics.webhooks.labels(vendor, "accepted").inc(len(result["accepted"]))
    metrics.webhooks.labels(vendor, "duplicate").inc(len(result["duplicates"]))
    if result["accepted"] and vendor == "salesforce":
        accepted = set(result["accepted"])
        fresh = [event for event, event_id in zip(events, ids) if event_id in accepted]
        await run_in_threadpool(_announce_won_deals, fresh, settings)
    return {"accepted": len(result["accepted"]), "duplicates": len(result["duplicates"]),
            "event_ids": result["accepted"] + result["duplicates"]}


def _announce_won_deals(events: list[dict], settings) -> None:
    """A deal moved to Closed Won is a notable event for the dashboards that cover it."""
    from api.services.warehouse import WarehouseUnavailable, fetch_dicts

    for event in events:
        entity, record_ids, _ = describe("salesforce", event)
        if entity != "Opportunity" or event.get("StageName") != "Closed Won":
            continue
        for opportunity_id in record_ids:
            try:
                rows = fetch_dicts(
                    "SELECT o.opportunity_name, o.rep_id, o.territory, o.amount, c.customer_name "
                    "FROM marts.fct_opportunities o LEFT JOIN marts.dim_customers c ON c.customer_id = o.customer_id "
                    "WHERE o.opportunity_id = ?", [opportunity_id], settings=settings)
            except (WarehouseUnavailable, Exception):  # noqa: BLE001 - the event still goes out, to execs only
                rows = []
            row = rows[0] if rows else {}
            amount = event.get("Amount", row.get("amount"))
            try:
                publish_event("deal_won", {"opportunity_id": opportunity_id,
                                           "opportunity_name": event.get("Name") or row.get("opportunity_name"),
                                           "customer_name": row.get("customer_name"), "amount": amount},
                              rep_id=row.get("rep_id"), territory=row.get("territory"), settings=settings)
            except Exception:  # noqa: BLE001
                log.exception("could not publish a deal_won event")


@router.post("/salesforce", summary="Salesforce Change Data Capture events (HMAC-signed)")
async def salesforce(request: Request) -> dict:
    return await _receive(request, "salesforce")


@router.post("/netsuite", summary="NetSuite record notifications (HMAC-signed)")
async def netsuite(request: Request) -> dict:
    return await _receive(request, "netsuite")
