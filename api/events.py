"""Change events from the vendors' webhooks, handed to orchestration through the app database.

The webhook endpoints verify each POST and call :func:`enqueue_change_events`; each event is stored once per
(vendor, event id), so a replayed or re-delivered event is never processed twice. Orchestration (the
Dagster change sensor) consumes them:

    from api.events import claim_change_events, mark_change_events_processed, release_change_events

    batch = claim_change_events(limit=500)          # pending -> claimed (stale claims are taken back)
    ...                                             # sync the affected objects, build the marts
    mark_change_events_processed([e["id"] for e in batch])   # or release_change_events(ids) on failure

Each event comes as ``{"id", "vendor", "event_id", "object_type", "record_ids", "change_type", "payload",
"received_at"}``: ``object_type`` is the Salesforce entity (``Opportunity``) or NetSuite record type
(``salesOrder``), ``record_ids`` the changed records, ``change_type`` CREATE/UPDATE/DELETE/UNDELETE.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from api.db import Database, get_database
from api.models import WebhookEvent, utcnow

VENDORS = ("salesforce", "netsuite")
CLAIM_TIMEOUT = dt.timedelta(minutes=10)


def event_id_of(vendor: str, event: dict) -> str | None:
    """The id a vendor's event is known by (the same rule the emulators' relay puts in X-SCC-Event-Id)."""
    if vendor == "netsuite":
        value = event.get("eventId")
        return str(value) if value else None
    header = event.get("ChangeEventHeader") or {}
    if header.get("transactionKey") is None or header.get("sequenceNumber") is None:
        return None
    return f"{header['transactionKey']}-{header['sequenceNumber']}"


def describe(vendor: str, event: dict) -> tuple[str | None, list[str], str | None]:
    """(object type, record ids, change type) of an event."""
    if vendor == "netsuite":
        action = (event.get("action") or "").upper() or None
        record = event.get("recordId")
        return event.get("recordType"), [str(record)] if record is not None else [], action
    header = event.get("ChangeEventHeader") or {}
    return header.get("entityName"), [str(r) for r in header.get("recordIds") or []], header.get("changeType")


def enqueue_change_events(vendor: str, events: list[dict], *, db: Database | None = None) -> dict:
    """Store vendor change events for orchestration, once per (vendor, event id).

    ``events`` may carry their id in ``_event_id`` (the webhook header); otherwise it is derived from the
    event. Returns ``{"accepted": [event ids stored now], "duplicates": [event ids seen before]}``.
    """
    if vendor not in VENDORS:
        raise ValueError(f"unknown vendor {vendor!r}")
    db = db or get_database()
    accepted, duplicates = [], []
    for event in events:
        event = dict(event)
        event_id = event.pop("_event_id", None) or event_id_of(vendor, event)
        if not event_id:
            raise ValueError("an event has no id")
        object_type, record_ids, change_type = describe(vendor, event)
        with db.session() as session:
            session.add(WebhookEvent(vendor=vendor, event_id=str(event_id)[:128], payload=event,
                                     object_type=object_type, record_ids=record_ids, change_type=change_type,
                                     status="pending", received_at=utcnow()))
            try:
                session.commit()
                accepted.append(event_id)
            except IntegrityError:
                session.rollback()
                duplicates.append(event_id)
    return {"accepted": accepted, "duplicates": duplicates}


def _as_dict(row: WebhookEvent) -> dict:
    return {"id": row.id, "vendor": row.vendor, "event_id": row.event_id, "object_type": row.object_type,
            "record_ids": row.record_ids or [], "change_type": row.change_type, "payload": row.payload,
            "received_at": row.received_at.isoformat() + "Z", "status": row.status}


def claim_change_events(limit: int = 500, *, vendor: str | None = None, db: Database | None = None) -> list[dict]:
    """Take up to ``limit`` pending events (oldest first) for processing; claims older than ten minutes
    (a crashed consumer) are pending again. Concurrent consumers never get the same event."""
    db = db or get_database()
    now = utcnow()
    with db.session() as session:
        session.execute(
            update(WebhookEvent).where(WebhookEvent.status == "claimed", WebhookEvent.claimed_at < now - CLAIM_TIMEOUT)
            .values(status="pending", claimed_at=None).execution_options(synchronize_session=False)
        )
        query = select(WebhookEvent.id).where(WebhookEvent.status == "pending")
        if vendor:
            query = query.where(WebhookEvent.vendor == vendor)
        query = query.order_by(WebhookEvent.id).limit(limit)
        if session.bind.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        ids = list(session.scalars(query))
        claimed = []
        for event_id in ids:
            result = session.execute(
                update(WebhookEvent).where(WebhookEvent.id == event_id, WebhookEvent.status == "pending")
                .values(status="claimed", claimed_at=now).execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                claimed.append(event_id)
        session.commit()
        rows = session.scalars(select(WebhookEvent).where(WebhookEvent.id.in_(claimed)).order_by(WebhookEvent.id)).all()
        return [_as_dict(row) for row in rows]


def mark_change_events_processed(ids: list[int], *, db: Database | None = None) -> int:
    db = db or get_database()
    with db.session() as session:
        result = session.execute(
            update(WebhookEvent).where(WebhookEvent.id.in_(list(ids)))
            .values(status="processed", processed_at=utcnow()).execution_options(synchronize_session=False)
        )
        session.commit()
        return result.rowcount


def release_change_events(ids: list[int], *, db: Database | None = None) -> int:
    """Give claimed events back (processing failed): the next claim gets them again."""
    db = db or get_database()
    with db.session() as session:
        result = session.execute(
            update(WebhookEvent).where(WebhookEvent.id.in_(list(ids)), WebhookEvent.status == "claimed")
            .values(status="pending", claimed_at=None).execution_options(synchronize_session=False)
        )
        session.commit()
        return result.rowcount


def pending_change_events(*, db: Database | None = None) -> int:
    from sqlalchemy import func

    db = db or get_database()
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(WebhookEvent).where(WebhookEvent.status == "pending"))
