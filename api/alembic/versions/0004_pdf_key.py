"""Where an approved transaction's PDF is kept in document storage (scc/storage.py).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-12
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.add_column(sa.Column("pdf_key", sa.String(512)))


def downgrade() -> None:
    with op.batch_alter_table("transactions") as batch:
        batch.drop_column("pdf_key")
