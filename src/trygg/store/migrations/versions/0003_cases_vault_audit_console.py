"""Cases, the evidence vault, the audit chain, the outbox and the console's logins.

Tables merged before their revision were made by ``create_all``; each is created only when
missing (see :mod:`trygg.store.migration_ops`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from trygg.store.migration_ops import create_missing_table

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_missing_table(
        "account_restrictions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=256), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("restriction", sa.String(length=64), nullable=False),
        sa.Column("reviewer_id", sa.String(length=256), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        indexes=[("ix_account_restrictions_user_id", ["user_id"], False)],
    )
    create_missing_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    create_missing_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=256), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=256), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
        indexes=[("ix_audit_log_subject", ["subject"], False)],
    )
    create_missing_table(
        "cases",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("offender_id", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("label_guess", sa.String(length=32), nullable=False),
        sa.Column("max_risk", sa.Float(), nullable=False),
        sa.Column("minor_involved", sa.Boolean(), nullable=False),
        sa.Column("user_reports", sa.Integer(), nullable=False),
        sa.Column("decisions", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("assignee", sa.String(length=256), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("priority_key", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("case_id"),
        indexes=[("ix_cases_offender_status", ["offender_id", "status"], False), ("ix_cases_status_priority", ["status", "priority_key"], False)],
    )
    create_missing_table(
        "console_credentials",
        sa.Column("reviewer_id", sa.String(length=256), nullable=False),
        sa.Column("password_hash", sa.String(length=256), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reviewer_id"),
    )
    create_missing_table(
        "console_sessions",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("reviewer_id", sa.String(length=256), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_sha256"),
        indexes=[("ix_console_sessions_reviewer_id", ["reviewer_id"], False)],
    )
    create_missing_table(
        "media_false_positives",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bank", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=128), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bank", "content_hash", "case_id", name="uq_media_false_positives"),
        indexes=[("ix_media_false_positives_bank", ["bank"], False), ("ix_media_false_positives_content_hash", ["content_hash"], False)],
    )
    create_missing_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("dedupe_key", sa.String(length=256), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
        indexes=[("ix_outbox_due", ["status", "next_attempt_at"], False)],
    )
    create_missing_table(
        "reviewers",
        sa.Column("reviewer_id", sa.String(length=256), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("permissions", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("reviewer_id"),
    )
    create_missing_table(
        "vault_holds",
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("held_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hold_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extensions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
        indexes=[("ix_vault_holds_hold_until", ["hold_until"], False)],
    )
    create_missing_table(
        "case_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ref", sa.String(length=256), nullable=False),
        sa.Column("conversation_id", sa.String(length=256), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.case_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "kind", "ref", name="uq_case_links"),
        indexes=[("ix_case_links_ref", ["kind", "ref"], False)],
    )
    create_missing_table(
        "case_media",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=256), nullable=False),
        sa.Column("bank", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=128), nullable=True),
        sa.Column("entry_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.case_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "event_id", "bank", name="uq_case_media"),
        indexes=[("ix_case_media_case_id", ["case_id"], False)],
    )
    create_missing_table(
        "vault_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["vault_holds.case_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "event_id", "kind", name="uq_vault_items"),
        indexes=[("ix_vault_items_case_id", ["case_id"], False), ("ix_vault_items_key_id", ["key_id"], False)],
    )


def downgrade() -> None:
    op.drop_table("vault_items")
    op.drop_table("case_media")
    op.drop_table("case_links")
    op.drop_table("vault_holds")
    op.drop_table("reviewers")
    op.drop_table("outbox")
    op.drop_table("media_false_positives")
    op.drop_table("console_sessions")
    op.drop_table("console_credentials")
    op.drop_table("cases")
    op.drop_table("audit_log")
    op.drop_table("audit_head")
    op.drop_table("account_restrictions")
