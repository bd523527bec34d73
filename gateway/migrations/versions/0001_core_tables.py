"""core tables

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-25 22:09:35.668234
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reference_counter",
        sa.Column("commune", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("prefix", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("commune", "prefix", "year"),
    )
    op.create_table(
        "service_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("commune", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("service", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("summary", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("submission_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("commune", "reference", name="uq_service_request_commune_reference"),
        sa.UniqueConstraint("commune", "submission_key", name="uq_service_request_commune_submission_key"),
    )
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_service_request_commune"), ["commune"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_request_service"), ["service"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_request_service"))
        batch_op.drop_index(batch_op.f("ix_service_request_commune"))

    op.drop_table("service_request")
    op.drop_table("reference_counter")
