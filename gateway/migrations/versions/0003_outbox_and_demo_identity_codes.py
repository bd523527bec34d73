"""outbox and demo identity codes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 22:46:15.720820
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "demo_authorization_code",
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("redirect_uri", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("scope", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("nonce", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("acr", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("code_challenge", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("code_challenge_method", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("person", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("auth_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("code_hash"),
    )
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("dedupe_key", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("commune", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dedupe_key"),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_message_commune"), ["commune"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_message_next_attempt_at"), ["next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_message_sent_at"), ["sent_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_sent_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_message_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_message_commune"))

    op.drop_table("outbox_message")
    op.drop_table("demo_authorization_code")
