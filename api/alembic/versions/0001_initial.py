"""The app database: transactions, conversations, audit log, webhook events.

Revision ID: 0001
Revises:
Create Date: 2026-05-20
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transactions",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("sentence", sa.Text()),
        sa.Column("draft", sa.JSON(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("valid", sa.Boolean(), nullable=False),
        sa.Column("total", sa.Numeric(18, 2), nullable=False),
        sa.Column("customer_id", sa.String(64)),
        sa.Column("rep_id", sa.String(64)),
        sa.Column("territory", sa.String(64)),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("approved_by", sa.String(255)),
        sa.Column("approved_at", sa.DateTime()),
        sa.Column("external_id", sa.String(64), nullable=False),
        sa.Column("netsuite_id", sa.String(32)),
        sa.Column("netsuite_number", sa.String(64)),
        sa.Column("submitted_at", sa.DateTime()),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_until", sa.DateTime()),
        sa.Column("last_error", sa.Text()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("external_id"),
    )
    op.create_index("ix_transactions_status", "transactions", ["status"])
    op.create_index("ix_transactions_rep_id", "transactions", ["rep_id"])
    op.create_index("ix_transactions_territory", "transactions", ["territory"])
    op.create_index("ix_transactions_created_by", "transactions", ["created_by"])

    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("conversation_id", sa.String(32), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("scope_key", sa.String(128)),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer_text", sa.Text()),
        sa.Column("answer", sa.JSON()),
        sa.Column("intent", sa.String(64)),
        sa.Column("agents_used", sa.String(255)),
        sa.Column("path", sa.String(32)),
        sa.Column("routes", sa.JSON()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_conversations_conversation_id", "conversations", ["conversation_id"])
    op.create_index("ix_conversations_user_id", "conversations", ["user_id"])
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"])

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("role", sa.String(32)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(64)),
        sa.Column("detail", sa.JSON()),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"])

    op.create_table(
        "webhook_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("vendor", sa.String(20), nullable=False),
        sa.Column("event_id", sa.String(128), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("object_type", sa.String(64)),
        sa.Column("record_ids", sa.JSON()),
        sa.Column("change_type", sa.String(20)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("claimed_at", sa.DateTime()),
        sa.Column("processed_at", sa.DateTime()),
        sa.UniqueConstraint("vendor", "event_id", name="uq_webhook_events_vendor_event"),
    )
    op.create_index("ix_webhook_events_status", "webhook_events", ["status", "id"])


def downgrade() -> None:
    op.drop_table("webhook_events")
    op.drop_table("audit_log")
    op.drop_table("conversations")
    op.drop_table("transactions")
