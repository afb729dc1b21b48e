"""Media hashes for rescans, and the outbox that makes outputs exactly-once.

Both tables are created only when missing (see :mod:`trygg.store.migration_ops`).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from trygg.store.migration_ops import create_missing_table

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_missing_table(
        "media_hashes",
        sa.Column("event_id", sa.String(length=256), nullable=False),
        sa.Column("conversation_id", sa.String(length=256), nullable=True),
        sa.Column("sender_id", sa.String(length=256), nullable=True),
        sa.Column("pdq", sa.String(length=64), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    create_missing_table(
        "sink_outbox",
        sa.Column("sink_key", sa.String(length=64), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("committed_end", sa.BigInteger(), nullable=False),
        sa.Column("pending", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sink_key"),
    )


def downgrade() -> None:
    op.drop_table("sink_outbox")
    op.drop_table("media_hashes")
