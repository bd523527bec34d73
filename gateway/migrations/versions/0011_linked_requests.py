"""linked requests: a request shared with another member commune names the other side and its decision

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 17:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("link_role", 10),
    ("linked_commune", 60),
    ("linked_reference", 40),
    ("linked_status", 30),
    ("linked_reason", 60),
)


def upgrade() -> None:
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        for name, length in COLUMNS:
            batch_op.add_column(sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        for name, _length in reversed(COLUMNS):
            batch_op.drop_column(name)
