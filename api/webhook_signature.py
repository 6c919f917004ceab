"""How a webhook delivery is signed: the one function the senders (the emulators' relay, or anything that
delivers Salesforce and NetSuite changes) and the receiver (``/webhooks/...``) share.

A delivery carries three headers::

    X-SCC-Event-Id:   the event's id (Salesforce: <transactionKey>-<sequenceNumber>; NetSuite: its eventId)
    X-SCC-Timestamp:  when it was signed, in whole Unix seconds
    X-SCC-Signature:  sha256=<hex HMAC-SHA256, keyed with SCC_WEBHOOK_SECRET, of "<event id>.<timestamp>.<body>">

So the id the event is stored (and deduplicated) under and the moment it was signed are covered by the
signature like the body: a captured delivery replayed with fresh ids fails the signature, and replayed as it
was it is either a duplicate of the stored id or older than the tolerance (``SCC_WEBHOOK_TOLERANCE_SECONDS``).
Pure standard library, no settings: the emulators import it without the API.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Mapping

SIGNATURE_HEADER = "X-SCC-Signature"
EVENT_ID_HEADER = "X-SCC-Event-Id"
TIMESTAMP_HEADER = "X-SCC-Timestamp"
EVENT_ID = re.compile(r"^[A-Za-z0-9_:-]{1,128}$")  # no "." (the separator of what is signed)
TIMESTAMP = re.compile(r"^[0-9]{1,12}$")


class SignatureError(Exception):
    """A delivery whose signature does not hold (missing, wrong, malformed or stale); the message says which."""


def event_id_of(vendor: str, event: dict) -> str | None:
    """The id a vendor's event is known by: what a sender puts in ``X-SCC-Event-Id`` for it."""
    if vendor == "netsuite":
        value = event.get("eventId")
        return str(value) if value else None
    header = event.get("ChangeEventHeader") or {}
    if not isinstance(header, dict) or header.get("transactionKey") is None or header.get("sequenceNumber") is None:
        return None
    return f"{header['transactionKey']}-{header['sequenceNumber']}"


def _key(secret: str | bytes) -> bytes:
    return secret if isinstance(secret, bytes) else secret.encode()


def sign(secret: str | bytes, event_id: str, timestamp: int, body: bytes) -> str:
    """The ``X-SCC-Signature`` value of a delivery."""
    if not EVENT_ID.match(event_id):
        raise ValueError(f"an event id is 1-128 letters, digits, '_', ':' or '-', not {event_id!r}")
    message = f"{event_id}.{int(timestamp)}.".encode() + body
    return "sha256=" + hmac.new(_key(secret), message, hashlib.sha256).hexdigest()


def signed_headers(secret: str | bytes, event_id: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The headers that sign ``body`` as the delivery of ``event_id``, now (each attempt signs anew)."""
    timestamp = int(time.time() if now is None else now)
    return {EVENT_ID_HEADER: event_id, TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, event_id, timestamp, body)}


def verify(secret: str | bytes, body: bytes, headers: Mapping[str, str], *, tolerance_seconds: float,
           now: float | None = None) -> str:
    """The signed event id of a delivery; raises :class:`SignatureError` unless the signature over id,
    timestamp and body holds and the timestamp is within ``tolerance_seconds`` of now (either way)."""
    lowered = {k.lower(): v for k, v in headers.items()}
    signature = (lowered.get(SIGNATURE_HEADER.lower()) or "").strip()
    event_id = (lowered.get(EVENT_ID_HEADER.lower()) or "").strip()
    stamp = (lowered.get(TIMESTAMP_HEADER.lower()) or "").strip()
    if not signature.startswith("sha256="):
        raise SignatureError(f"missing or malformed {SIGNATURE_HEADER} (sha256=<hex>)")
    if not EVENT_ID.match(event_id):
        raise SignatureError(f"missing or malformed {EVENT_ID_HEADER} (1-128 letters, digits, '_', ':' or '-')")
    if not TIMESTAMP.match(stamp):
        raise SignatureError(f"missing or malformed {TIMESTAMP_HEADER} (Unix seconds)")
    expected = sign(secret, event_id, int(stamp), body)
    if not hmac.compare_digest(expected, signature.lower()):
        raise SignatureError(f"invalid {SIGNATURE_HEADER}")
    age = (time.time() if now is None else now) - int(stamp)
    if abs(age) > tolerance_seconds:
        raise SignatureError(f"the delivery was signed {abs(age):.0f} s {'ago' if age > 0 else 'ahead'}, "
                             f"beyond the {tolerance_seconds:.0f} s allowed (a replay, or a clock far off)")
    return event_id
