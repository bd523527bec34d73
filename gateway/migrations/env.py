"""Alembic environment: the core's tables, on the engine Guichet hands over."""

from alembic import context
from sqlmodel import SQLModel

import gateway.models  # noqa: F401  (every table must be on the metadata)

config = context.config
engine = config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
