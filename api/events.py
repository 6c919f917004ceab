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
from api.webhook_signature import event_id_of

__all__ = ["claim_change_events", "enqueue_change_events", "event_id_of", "mark_change_events_processed",
           "pending_change_events", "release_change_events"]

VENDORS = ("salesforce", "netsuite")
CLAIM_TIMEOUT = dt.timedelta(minutes=10)


def _text(value, name: str, size: int, *, number_ok: bool = False) -> str | None:
    """A field as text (None when absent or empty); ValueError naming the field and the type it has when it is
    not a string (a number only where ``number_ok``: record ids)."""
    if value is None or value == "":
        return None
    if isinstance(value, str) or (number_ok and isinstance(value, int) and not isinstance(value, bool)):
        return str(value)[:size]
    wanted = "text or a whole number" if number_ok else "text"
    raise ValueError(f"{name} must be {wanted}, not {_type_name(value)}")


def _type_name(value) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def describe(vendor: str, event: dict) -> tuple[str | None, list[str], str | None]:
    """(object type, record ids, change type) of an event; ValueError when a field has the wrong shape."""
    if vendor == "netsuite":
        _text(event.get("eventId"), "eventId", 128, number_ok=True)
        action = _text(event.get("action"), "action", 20)
        record = _text(event.get("recordId"), "recordId", 64, number_ok=True)
        return (_text(event.get("recordType"), "recordType", 64), [record] if record is not None else [],
                action.upper() if action else None)
    header = event.get("ChangeEventHeader")
    header = {} if header is None else header
    if not isinstance(header, dict):
        raise ValueError(f"ChangeEventHeader must be an object, not {_type_name(header)}")
    for name in ("transactionKey", "sequenceNumber"):
        _text(header.get(name), f"ChangeEventHeader.{name}", 128, number_ok=True)
    records = header.get("recordIds")
    records = [] if records is None else records
    if not isinstance(records, list):
        raise ValueError(f"ChangeEventHeader.recordIds must be a list, not {_type_name(records)}")
    return (_text(header.get("entityName"), "ChangeEventHeader.entityName", 64),
            [_text(r, "ChangeEventHeader.recordIds", 64, number_ok=True) or "" for r in records],
            _text(header.get("changeType"), "ChangeEventHeader.changeType", 20))


def enqueue_change_events(vendor: str, events: list[dict], *, event_ids: list[str | None] | None = None,
                          db: Database | None = None) -> dict:
    """Store vendor change events for orchestration, once per (vendor, event id).

    ``event_ids`` (one per event; the webhook's signed ``X-SCC-Event-Id``) name the events; where it is not
    given the id is the vendor's own (:func:`event_id_of`). Returns ``{"accepted": [event ids stored now],
    "duplicates": [event ids seen before]}``.
    """
    if vendor not in VENDORS:
        raise ValueError(f"unknown vendor {vendor!r}")
    db = db or get_database()
    accepted, duplicates = [], []
    for index, event in enumerate(events):
        event_id = (event_ids[index] if event_ids else None) or event_id_of(vendor, event)
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
