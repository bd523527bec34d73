"""audit review marks: the auditor's "reviewed" marks and notes on the weekly review's findings

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    string = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "audit_review_mark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune", string(length=60), nullable=True),
        sa.Column("week", string(length=8), nullable=False),
        sa.Column("finding", string(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reviewed_by", string(length=120), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_review_mark_commune", "audit_review_mark", ["commune"], unique=False)
    op.create_index("ix_audit_review_mark_week", "audit_review_mark", ["week"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_review_mark_week", table_name="audit_review_mark")
    op.drop_index("ix_audit_review_mark_commune", table_name="audit_review_mark")
    op.drop_table("audit_review_mark")
