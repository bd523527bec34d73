"""request families: the requests of one family filing (one per member) share a family id

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("family_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_service_request_family_id"), ["family_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_service_request_family_id"))
        batch_op.drop_column("family_id")
