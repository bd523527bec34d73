"""issued documents: the PDFs a service issues for a request, with their signed payload and check code digest

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    string = sqlmodel.sql.sqltypes.AutoString
    when = sa.DateTime(timezone=True)
    op.create_table(
        "issued_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", string(length=32), nullable=False),
        sa.Column("commune", string(length=60), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("number", string(length=60), nullable=False),
        sa.Column("kind", string(length=40), nullable=False),
        sa.Column("title", string(length=200), nullable=False),
        sa.Column("title_en", string(length=200), nullable=False),
        sa.Column("locale", string(length=5), nullable=False),
        sa.Column("issued_at", when, nullable=False),
        sa.Column("key_id", string(length=40), nullable=False),
        sa.Column("code_digest", string(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("confirmable", sa.JSON(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("revoked_at", when, nullable=True),
        sa.Column("revoked_reason", string(length=200), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("code_digest"),
        sa.UniqueConstraint("commune", "number", name="uq_issued_document_commune_number"),
    )
    op.create_index("ix_issued_document_request_id", "issued_document", ["request_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_issued_document_request_id", table_name="issued_document")
    op.drop_table("issued_document")
