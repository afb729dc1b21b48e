"""Rescans of the event archive: the runs, and the decisions each changed.

Created only when missing (see :mod:`trygg.store.migration_ops`).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from trygg.store.migration_ops import create_missing_table

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_missing_table(
        "rescan_runs",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=1024), nullable=False),
        sa.Column("policy", sa.String(length=64), nullable=False),
        sa.Column("model", sa.Boolean(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("compared", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("escalated", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("run_id"),
    )
    create_missing_table(
        "rescan_results",
        sa.Column("run_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=256), nullable=False),
        sa.Column("conversation_id", sa.String(length=256), nullable=True),
        sa.Column("old_actions", sa.JSON(), nullable=False),
        sa.Column("old_risk", sa.Float(), nullable=True),
        sa.Column("old_reasons", sa.JSON(), nullable=False),
        sa.Column("old_policy", sa.String(length=64), nullable=True),
        sa.Column("new_actions", sa.JSON(), nullable=False),
        sa.Column("new_risk", sa.Float(), nullable=False),
        sa.Column("new_reasons", sa.JSON(), nullable=False),
        sa.Column("new_policy", sa.String(length=64), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "event_id"),
        indexes=[("ix_rescan_results_event", ["event_id"], False)],
    )


def downgrade() -> None:
    op.drop_table("rescan_results")
    op.drop_table("rescan_runs")
