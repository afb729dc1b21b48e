"""Baseline: the schema as ``create_all`` made it before migrations existed.

Revision ID: 0001
Revises:
Create Date: 2026-12-02

A database made by ``create_all`` (any release before this one) is adopted without a stamp:
each table is created only when it is missing, so the tables a deployment already has keep
their rows and the ones it never needed (the API's, the media banks') are added.
"""

from __future__ import annotations

from collections.abc import Sequence
import sqlalchemy as sa
from alembic import op

from trygg.store.migration_ops import create_missing_table

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The tables in creation order (a foreign key's target first), newest last on downgrade.
TABLES = (
    "alerts",
    "api_audit",
    "api_keys",
    "conversations",
    "decisions",
    "events",
    "media_banks",
    "ncmec_submissions",
    "users",
    "media_bank_entries",
    "ncmec_submission_files",
)


def upgrade() -> None:
    create_missing_table(
        "alerts",
        sa.Column('conversation_id', sa.String(length=256), nullable=False),
        sa.Column('first_alert_event_id', sa.String(length=256), nullable=False),
        sa.Column('label_guess', sa.String(length=32), nullable=False),
        sa.Column('risk', sa.Float(), nullable=False),
        sa.Column('offender_id', sa.String(length=256), nullable=True),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('raised_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('conversation_id'),
    )
    create_missing_table(
        "api_audit",
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('key_id', sa.String(length=32), nullable=True),
        sa.Column('method', sa.String(length=8), nullable=False),
        sa.Column('path', sa.String(length=512), nullable=False),
        sa.Column('status', sa.Integer(), nullable=False),
        sa.Column('detail', sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    create_missing_table(
        "api_keys",
        sa.Column('key_id', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=128), nullable=False),
        sa.Column('salt', sa.String(length=64), nullable=False),
        sa.Column('secret_sha256', sa.String(length=64), nullable=False),
        sa.Column('scopes', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('key_id'),
    )
    create_missing_table(
        "conversations",
        sa.Column('conversation_id', sa.String(length=256), nullable=False),
        sa.Column('state', sa.JSON(), nullable=False),
        sa.Column('risk', sa.Float(), nullable=False),
        sa.Column('flagged', sa.Integer(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('conversation_id'),
    )
    create_missing_table(
        "decisions",
        sa.Column('event_id', sa.String(length=256), nullable=False),
        sa.Column('conversation_id', sa.String(length=256), nullable=True),
        sa.Column('actions', sa.JSON(), nullable=False),
        sa.Column('risk', sa.Float(), nullable=False),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('policy', sa.String(length=64), nullable=False),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('event_id'),
        indexes=[
            ('ix_decisions_conversation', ['conversation_id'], False),
        ],
    )
    create_missing_table(
        "events",
        sa.Column('event_id', sa.String(length=256), nullable=False),
        sa.Column('type', sa.String(length=32), nullable=False),
        sa.Column('conversation_id', sa.String(length=256), nullable=True),
        sa.Column('sender_id', sa.String(length=256), nullable=True),
        sa.Column('recipient_id', sa.String(length=256), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('text_sha256', sa.String(length=64), nullable=True),
        sa.Column('ingested_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('event_id'),
        indexes=[
            (op.f('ix_events_conversation_id'), ['conversation_id'], False),
        ],
    )
    create_missing_table(
        "media_banks",
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=256), nullable=False),
        sa.Column('description', sa.String(length=1024), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.Column('action', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    create_missing_table(
        "ncmec_submissions",
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('key', sa.String(length=256), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('report_id', sa.String(length=64), nullable=True),
        sa.Column('report_sha256', sa.String(length=64), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.String(length=2000), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key'),
    )
    create_missing_table(
        "users",
        sa.Column('user_id', sa.String(length=256), nullable=False),
        sa.Column('age_picture', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('user_id'),
    )
    create_missing_table(
        "media_bank_entries",
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('bank_id', sa.Integer(), nullable=False),
        sa.Column('pdq', sa.String(length=64), nullable=True),
        sa.Column('quality', sa.Integer(), nullable=True),
        sa.Column('md5', sa.String(length=32), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('video_key', sa.String(length=128), nullable=True),
        sa.Column('label', sa.String(length=256), nullable=True),
        sa.Column('source', sa.String(length=256), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['bank_id'], ['media_banks.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        indexes=[
            (op.f('ix_media_bank_entries_bank_id'), ['bank_id'], False),
            ('ix_media_bank_entries_bank_pdq', ['bank_id', 'pdq'], False),
            ('ix_media_bank_entries_md5', ['md5'], False),
            ('ix_media_bank_entries_sha256', ['sha256'], False),
        ],
        sqlite_autoincrement=True,
    )
    create_missing_table(
        "ncmec_submission_files",
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('file_name', sa.String(length=512), nullable=False),
        sa.Column('spool_name', sa.String(length=512), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('file_id', sa.String(length=128), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['ncmec_submissions.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('submission_id', 'position', name='uq_ncmec_submission_file_position'),
        indexes=[
            (op.f('ix_ncmec_submission_files_submission_id'), ['submission_id'], False),
        ],
    )


def downgrade() -> None:
    for name in reversed(TABLES):
        op.drop_table(name)
