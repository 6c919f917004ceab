"""The holder of an approval's submission lease (host, process id and start) and its heartbeat.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.add_column(sa.Column("lease_holder", sa.String(255)))
        batch.add_column(sa.Column("lease_heartbeat_at", sa.DateTime()))


def downgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.drop_column("lease_heartbeat_at")
        batch.drop_column("lease_holder")
