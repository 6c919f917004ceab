"""The audit log, archived to document storage: one gzip JSON-lines object per finished UTC day, never rewritten.

``audit/<yyyy>/<mm>/<yyyy-mm-dd>.jsonl.gz`` holds the day's rows in id order (one JSON object a line), and
``audit/<yyyy>/<mm>/<yyyy-mm-dd>.manifest.json`` its checksum: the object's SHA-256 and size, the rows, the
first and last id. Both are written create-only (:meth:`scc.storage.Storage.put`), so a day is archived once:
a second archive of the same day is refused (:class:`AlreadyArchived`), whoever tries. The bytes are
deterministic (gzip without a time stamp), so the checksum of a day can be recomputed from the database.

The API looks for finished days not yet archived every ``SCC_AUDIT_ARCHIVE_INTERVAL_SECONDS`` (any worker;
the create-only write lets exactly one of them write each day); ``scc audit archive`` does it by hand.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import logging

from sqlalchemy import func, select

from api.db import Database
from api.models import AuditLog, utcnow
from scc.storage import AlreadyExists, Storage, sha256

log = logging.getLogger("scc.api.audit_archive")

# a day is archived once it has been over for this long (rows committed just after midnight are in)
GRACE = dt.timedelta(minutes=5)


class AlreadyArchived(AlreadyExists):
    pass


class DayNotOver(ValueError):
    pass


def object_key(day: dt.date) -> str:
    return f"audit/{day:%Y}/{day:%m}/{day.isoformat()}.jsonl.gz"


def manifest_key(day: dt.date) -> str:
    return f"audit/{day:%Y}/{day:%m}/{day.isoformat()}.manifest.json"


def _row(a: AuditLog) -> dict:
    return {"id": a.id, "at": a.at.isoformat(timespec="microseconds") + "Z", "actor": a.actor, "role": a.role,
            "action": a.action, "entity": a.entity, "entity_id": a.entity_id, "detail": a.detail}


def day_bytes(db: Database, day: dt.date) -> tuple[bytes, list[int]]:
    """The day's rows as gzip JSON lines (deterministic bytes) and their ids."""
    start = dt.datetime.combine(day, dt.time())
    with db.session() as session:
        rows = session.scalars(select(AuditLog).where(AuditLog.at >= start, AuditLog.at < start + dt.timedelta(days=1))
                               .order_by(AuditLog.id)).all()
    text = "".join(json.dumps(_row(a), sort_keys=True, separators=(",", ":"), default=str) + "\n" for a in rows)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0), [a.id for a in rows]


def archive_day(db: Database, storage: Storage, day: dt.date, now: dt.datetime | None = None) -> dict:
    """Archive one finished UTC day; its manifest. AlreadyArchived when the day is in storage already."""
    now = now or utcnow()
    if dt.datetime.combine(day + dt.timedelta(days=1), dt.time()) + GRACE > now:
        raise DayNotOver(f"{day.isoformat()} is not over yet (UTC): a day is archived once it has ended, "
                         f"from {day + dt.timedelta(days=1)} 00:{GRACE.seconds // 60:02d} UTC")
    if storage.exists(manifest_key(day)):
        raise AlreadyArchived(f"the audit log of {day.isoformat()} is archived already ({object_key(day)}); "
                              "archives are never rewritten")
    data, ids = day_bytes(db, day)
    try:
        storage.put(object_key(day), data, create_only=True)
    except AlreadyExists:
        # an archive without its manifest (a writer stopped between the two): its manifest is made from the
        # object as it is, never from the database, and the day stays archived as it was
        data = storage.get(object_key(day))
        ids = [json.loads(line)["id"] for line in gzip.decompress(data).splitlines() if line.strip()]
        _write_manifest(storage, day, data, ids, now)
        raise AlreadyArchived(f"the audit log of {day.isoformat()} is archived already ({object_key(day)}); "
                              "archives are never rewritten") from None
    return _write_manifest(storage, day, data, ids, now)


def _write_manifest(storage: Storage, day: dt.date, data: bytes, ids: list[int], now: dt.datetime) -> dict:
    manifest = {"day": day.isoformat(), "object": object_key(day), "sha256": sha256(data), "bytes": len(data),
                "rows": len(ids), "first_id": ids[0] if ids else None, "last_id": ids[-1] if ids else None,
                "format": "gzip JSON lines, one audit row a line, in id order", "archived_at": now.isoformat() + "Z"}
    try:
        storage.put(manifest_key(day), json.dumps(manifest, indent=2).encode(), create_only=True)
    except AlreadyExists:  # another writer's manifest of the same bytes: it stands
        pass
    return manifest


def verify_day(storage: Storage, day: dt.date) -> dict:
    """Read a day's archive back and check it against its manifest (raises ValueError on a mismatch)."""
    manifest = json.loads(storage.get(manifest_key(day)))
    data = storage.get(manifest["object"])
    if sha256(data) != manifest["sha256"] or len(data) != manifest["bytes"]:
        raise ValueError(f"the audit archive of {day} does not match its manifest")
    return manifest


def pending_days(db: Database, storage: Storage, now: dt.datetime | None = None) -> list[dt.date]:
    """Finished days with audit rows whose archive is not in storage yet, oldest first."""
    now = now or utcnow()
    with db.session() as session:
        first = session.scalar(select(func.min(AuditLog.at)))
    if first is None:
        return []
    last = (now - GRACE).date() - dt.timedelta(days=1)
    archived = set(storage.list("audit"))
    days, day = [], first.date()
    while day <= last:
        if manifest_key(day) not in archived:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def archive_pending(db: Database, storage: Storage, now: dt.datetime | None = None) -> list[dict]:
    """Archive every finished day not archived yet (another worker archiving the same day is no error)."""
    done = []
    for day in pending_days(db, storage, now):
        try:
            done.append(archive_day(db, storage, day, now))
        except AlreadyArchived:
            continue
    return done
