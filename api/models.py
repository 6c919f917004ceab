"""The API's own database: transactions (the write path), conversations, the audit log, webhook events.

SQLAlchemy 2.0 declarative models. The schema is created and changed only by the Alembic migrations in
``api/alembic/versions`` (``api.db.migrate``); a test checks that the migrations and these models agree.
Times are naive UTC (SQLite has no time zones; PostgreSQL columns are ``timestamp without time zone``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def new_id() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    pass


# Transaction states. draft -> submitting -> submitted; submitting -> failed -> submitting (retry);
# draft/failed -> rejected. A 'submitting' row may be taken over by a retry when its holder's process is gone
# (this host), its heartbeat stopped, or its lease ran out.
DRAFT, SUBMITTING, SUBMITTED, FAILED, REJECTED = "draft", "submitting", "submitted", "failed", "rejected"
STATUSES = (DRAFT, SUBMITTING, SUBMITTED, FAILED, REJECTED)


class Transaction(Base):
    """A sales order on its way from a sentence to NetSuite."""

    __tablename__ = "transactions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(20), default="sales_order")
    status: Mapped[str] = mapped_column(String(20), default=DRAFT, index=True)
    sentence: Mapped[str | None] = mapped_column(Text)
    draft: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    checks: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    valid: Mapped[bool] = mapped_column(Boolean, default=False)
    total: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal("0"))
    # the customer's place in the company: what the row scope of a transaction is checked against
    customer_id: Mapped[str | None] = mapped_column(String(64))
    rep_id: Mapped[str | None] = mapped_column(String(64), index=True)
    territory: Mapped[str | None] = mapped_column(String(64), index=True)
    created_by: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    approved_by: Mapped[str | None] = mapped_column(String(255))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # NetSuite: the external id the order is upserted under, and what NetSuite answered
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    netsuite_id: Mapped[str | None] = mapped_column(String(32))
    netsuite_number: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # a rejected transaction whose order NetSuite had (a failed approval that went through): closed there
    netsuite_closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # the approved order's PDF in document storage (scc/storage.py), written at approval
    pdf_key: Mapped[str | None] = mapped_column(String(512))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # who holds the lease while submitting ("<host>:<pid>:<process start>") and when it last said it lives
    lease_holder: Mapped[str | None] = mapped_column(String(255))
    lease_heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Conversation(Base):
    """One question and its answer; turns of one conversation share ``conversation_id``."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(String(32), index=True)
    turn: Mapped[int] = mapped_column(Integer, default=1)
    user_id: Mapped[str] = mapped_column(String(255), index=True)
    role: Mapped[str] = mapped_column(String(32))
    scope_key: Mapped[str | None] = mapped_column(String(128))
    question: Mapped[str] = mapped_column(Text)
    answer_text: Mapped[str | None] = mapped_column(Text)
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    intent: Mapped[str | None] = mapped_column(String(64))
    agents_used: Mapped[str | None] = mapped_column(String(255))
    path: Mapped[str | None] = mapped_column(String(32))
    routes: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class AuditLog(Base):
    """Who did what, when: every step of the write path, logins and refused writes."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)


class WebhookEvent(Base):
    """A change event received from a vendor, once per (vendor, event id), waiting for orchestration."""

    __tablename__ = "webhook_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    vendor: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    object_type: Mapped[str | None] = mapped_column(String(64))
    record_ids: Mapped[list[str] | None] = mapped_column(JSON)
    change_type: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    processed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("vendor", "event_id", name="uq_webhook_events_vendor_event"),
        Index("ix_webhook_events_status", "status", "id"),
    )
