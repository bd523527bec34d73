"""requests lifecycle: owners, drafts, history, attachments, retention dates

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 00:43:25.497938
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NEW_COLUMNS = (
    "form_version", "citizen_id", "subject", "notify_email", "filed_by_staff_id", "assigned_to", "awaiting_citizen",
    "version", "updated_at", "submitted_at", "decided_at", "purge_after",
)  # fmt: skip


def upgrade() -> None:
    string = sqlmodel.sql.sqltypes.AutoString
    when = sa.DateTime(timezone=True)
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_id", string(length=32), nullable=True))
        batch_op.add_column(sa.Column("form_version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("citizen_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("subject", string(length=32), nullable=True))
        batch_op.add_column(sa.Column("notify_email", string(length=254), nullable=True))
        batch_op.add_column(sa.Column("filed_by_staff_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("assigned_to", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("awaiting_citizen", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("updated_at", when, nullable=True))
        batch_op.add_column(sa.Column("submitted_at", when, nullable=True))
        batch_op.add_column(sa.Column("decided_at", when, nullable=True))
        batch_op.add_column(sa.Column("purge_after", when, nullable=True))
        batch_op.alter_column("reference", existing_type=sa.VARCHAR(length=40), nullable=True)

    # Requests filed before this version: give each a public id; they were submitted when created.
    requests = sa.table("service_request", sa.column("id", sa.Integer), sa.column("public_id", sa.String),
                        sa.column("created_at", when), sa.column("submitted_at", when))  # fmt: skip
    connection = op.get_bind()
    for (row_id,) in connection.execute(sa.select(requests.c.id)).all():
        connection.execute(requests.update().where(requests.c.id == row_id).values(public_id=secrets.token_urlsafe(16)))
    connection.execute(requests.update().values(submitted_at=requests.c.created_at))

    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.alter_column("public_id", existing_type=string(length=32), nullable=False)
        batch_op.create_unique_constraint("uq_service_request_public_id", ["public_id"])
        batch_op.create_index("ix_service_request_assigned_to", ["assigned_to"], unique=False)
        batch_op.create_index("ix_service_request_citizen_id", ["citizen_id"], unique=False)
        batch_op.create_index("ix_service_request_purge_after", ["purge_after"], unique=False)
        batch_op.create_index("ix_service_request_queue", ["commune", "service", "status"], unique=False)
        batch_op.create_foreign_key("fk_service_request_citizen", "citizen", ["citizen_id"], ["id"])
        batch_op.create_foreign_key("fk_service_request_filed_by", "staff_user", ["filed_by_staff_id"], ["id"])
        batch_op.create_foreign_key("fk_service_request_assigned_to", "staff_user", ["assigned_to"], ["id"])

    op.create_table(
        "request_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune", string(length=60), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("at", when, nullable=False),
        sa.Column("kind", string(length=20), nullable=False),
        sa.Column("actor_role", string(length=20), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("from_status", string(length=30), nullable=True),
        sa.Column("to_status", string(length=30), nullable=True),
        sa.Column("transition", string(length=40), nullable=True),
        sa.Column("reason", string(length=60), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_request_event_request_id", "request_event", ["request_id"], unique=False)
    op.create_table(
        "request_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", string(length=32), nullable=False),
        sa.Column("commune", string(length=60), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("document", string(length=60), nullable=False),
        sa.Column("filename", string(length=200), nullable=False),
        sa.Column("content_type", string(length=60), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", string(length=64), nullable=False),
        sa.Column("storage_name", string(length=80), nullable=False),
        sa.Column("uploaded_by", string(length=20), nullable=False),
        sa.Column("created_at", when, nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["service_request.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("public_id"),
        sa.UniqueConstraint("storage_name"),
    )
    op.create_index("ix_request_attachment_request_id", "request_attachment", ["request_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_request_attachment_request_id", table_name="request_attachment")
    op.drop_table("request_attachment")
    op.drop_index("ix_request_event_request_id", table_name="request_event")
    op.drop_table("request_event")
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_constraint("fk_service_request_assigned_to", type_="foreignkey")
        batch_op.drop_constraint("fk_service_request_filed_by", type_="foreignkey")
        batch_op.drop_constraint("fk_service_request_citizen", type_="foreignkey")
        batch_op.drop_index("ix_service_request_queue")
        batch_op.drop_index("ix_service_request_purge_after")
        batch_op.drop_index("ix_service_request_citizen_id")
        batch_op.drop_index("ix_service_request_assigned_to")
        batch_op.drop_constraint("uq_service_request_public_id", type_="unique")
        batch_op.drop_column("public_id")
        for column in reversed(_NEW_COLUMNS):
            batch_op.drop_column(column)
    # Drafts have no reference: they cannot survive a downgrade.
    requests = sa.table("service_request", sa.column("reference", sa.String))
    op.get_bind().execute(requests.delete().where(requests.c.reference.is_(None)))
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.alter_column("reference", existing_type=sa.VARCHAR(length=40), nullable=False)
