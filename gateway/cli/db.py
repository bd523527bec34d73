"""``guichet db``: apply the migrations and say whether the schema is up to date."""

from __future__ import annotations

import sys

import click

from gateway.cli.context import settings_of
from gateway.db import Database


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target migration.")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply the migrations (safe to run again: it does nothing when up to date)."""
    database = Database(settings_of(ctx).database_url)
    database.upgrade(revision)
    current, _head = database.migration_state()
    click.echo(f"database at migration {current}")


@db.command("status")
@click.pass_context
def db_status(ctx: click.Context) -> None:
    """Show the current and expected migrations; exit 1 when an upgrade is needed."""
    current, head = Database(settings_of(ctx).database_url).migration_state()
    click.echo(f"current: {current or 'none'}\nexpected: {head}")
    if current != head:
        click.echo("run `guichet db upgrade`", err=True)
        sys.exit(1)
