"""When a rejected transaction's order, found in NetSuite after a failed approval, was closed there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.add_column(sa.Column("netsuite_closed_at", sa.DateTime()))


def downgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.drop_column("netsuite_closed_at")
