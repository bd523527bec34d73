"""``guichet db``: apply the migrations, say whether the schema is up to date, grant a gateway role its rights."""

from __future__ import annotations

import sys

import click
from sqlalchemy import text
from sqlmodel import SQLModel

from gateway.audit.guard import gateway_role_statements
from gateway.cli.context import settings_of
from gateway.cli.files import import_from_disk
from gateway.db import Database


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target migration.")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply the migrations, then move in the documents an earlier release kept on disk (safe to run again)."""
    settings = settings_of(ctx)
    database = Database(settings.database_url)
    try:
        database.upgrade(revision)
        current, head = database.migration_state()
        moved = import_from_disk(database, settings) if current == head else None
        click.echo(f"database at migration {current}" + (f"; {moved}" if moved else ""))
    finally:
        database.dispose()


@db.command("status")
@click.pass_context
def db_status(ctx: click.Context) -> None:
    """Show the current and expected migrations; exit 1 when an upgrade is needed."""
    current, head = Database(settings_of(ctx).database_url).migration_state()
    click.echo(f"current: {current or 'none'}\nexpected: {head}")
    if current != head:
        click.echo("run `guichet db upgrade`", err=True)
        sys.exit(1)


@db.command("grant")
@click.argument("role")
@click.option("--no-retention", is_flag=True, help="Leave pruning the audit log to another role.")
@click.option(
    "--apply", "apply_now", is_flag=True, help="Run the statements (as the tables' owner) instead of printing them."
)
@click.pass_context
def db_grant(ctx: click.Context, role: str, no_retention: bool, apply_now: bool) -> None:
    """The rights of a gateway ROLE that owns no table (PostgreSQL): run after each `db upgrade`, as the owner.

    Such a role reads and writes the gateway's tables, but only appends to the
    audit log and cannot drop or disable its guards (docs/audit_format.md, section 9).
    """
    database = Database(settings_of(ctx).database_url)
    try:
        if database.engine.dialect.name != "postgresql":
            raise click.ClickException("roles exist on PostgreSQL only (SQLite relies on witnesses)")
        with database.engine.connect() as connection:
            schema = str(connection.execute(text("SELECT current_schema()")).scalar_one())
        statements = gateway_role_statements(role, schema, SQLModel.metadata.tables, retention=not no_retention)
        if not apply_now:
            click.echo("".join(f"{statement};\n" for statement in statements), nl=False)
            return
        with database.engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
        click.echo(f"granted {role!r} the gateway's rights in schema {schema!r} ({len(statements)} statements)")
    finally:
        database.dispose()
