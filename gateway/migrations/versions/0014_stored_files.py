"""stored files: attachments' bytes move from the data folder into the database, in chunks

The tables only; `guichet db upgrade` then moves the files already on disk
(`guichet files import`), since a migration does not know the data folder.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    string = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "stored_file",
        sa.Column("name", string(length=40), nullable=False),
        sa.Column("kind", string(length=20), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", string(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index("ix_stored_file_kind", "stored_file", ["kind"], unique=False)
    op.create_table(
        "stored_file_chunk",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["name"], ["stored_file.name"]),
        sa.PrimaryKeyConstraint("name", "number"),
    )


def downgrade() -> None:
    op.drop_table("stored_file_chunk")
    op.drop_index("ix_stored_file_kind", table_name="stored_file")
    op.drop_table("stored_file")
