"""``/webhooks/salesforce`` and ``/webhooks/netsuite``: change events, HMAC-verified, each processed once.

A POST carries one event (or a JSON list of events) signed with the shared secret ``SCC_WEBHOOK_SECRET``:
``X-SCC-Signature: sha256=<hex HMAC-SHA256 of the raw body>``; the event id comes in ``X-SCC-Event-Id`` (or
is derived from the event). A bad or missing signature gets 401; an event id seen before is acknowledged
(200) and not handed on again. New events go to orchestration through :func:`api.events.enqueue_change_events`;
a deal moved to Closed Won is also pushed to the dashboards as a notable event.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Literal

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from api.cache import publish_event
from api.events import enqueue_change_events, event_id_of

log = logging.getLogger("scc.api.webhooks")
router = APIRouter(prefix="/webhooks", tags=["webhooks"])
MAX_BODY = 5 * 1024 * 1024


def verify_signature(secret: str, body: bytes, header: str | None) -> bool:
    if not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256="):].strip().lower())


async def _receive(request: Request, vendor: Literal["salesforce", "netsuite"]) -> dict:
    settings, metrics = request.app.state.settings, request.app.state.metrics
    body = await request.body()
    if len(body) > MAX_BODY:
        raise HTTPException(413, "the body is too large")
    if not verify_signature(settings.webhook_secret.get_secret_value(), body, request.headers.get("x-scc-signature")):
        metrics.webhooks.labels(vendor, "bad_signature").inc()
        raise HTTPException(401, "missing or invalid X-SCC-Signature")
    try:
        payload = json.loads(body)
    except ValueError:
        raise HTTPException(400, "the body is not JSON") from None
    events = payload if isinstance(payload, list) else [payload]
    if not events or not all(isinstance(e, dict) for e in events):
        raise HTTPException(400, "expected an event object or a list of them")
    header_id = request.headers.get("x-scc-event-id")
    if header_id and len(events) == 1:
        events = [{**events[0], "_event_id": header_id}]
    for event in events:
        if not (event.get("_event_id") or event_id_of(vendor, event)):
            raise HTTPException(400, "an event has no id (X-SCC-Event-Id or the vendor's own)")
    result = await run_in_threadpool(enqueue_change_events, vendor, events, db=request.app.state.db)
    metrics.webhooks.labels(vendor, "accepted").inc(len(result["accepted"]))
    metrics.webhooks.labels(vendor, "duplicate").inc(len(result["duplicates"]))
    if result["accepted"] and vendor == "salesforce":
        accepted = set(result["accepted"])
        fresh = [e for e in events if (e.get("_event_id") or event_id_of(vendor, e)) in accepted]
        await run_in_threadpool(_announce_won_deals, fresh, settings)
    return {"accepted": len(result["accepted"]), "duplicates": len(result["duplicates"]),
            "event_ids": result["accepted"] + result["duplicates"]}


def _announce_won_deals(events: list[dict], settings) -> None:
    """A deal moved to Closed Won is a notable event for the dashboards that cover it."""
    from api.services.warehouse import WarehouseUnavailable, fetch_dicts

    for event in events:
        header = event.get("ChangeEventHeader") or {}
        if header.get("entityName") != "Opportunity" or event.get("StageName") != "Closed Won":
            continue
        for opportunity_id in header.get("recordIds") or []:
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
