"""``guichet files``: the files kept in the database, and moving in those an earlier release left on disk."""

from __future__ import annotations

import click

from gateway.cli.context import clear_errors, settings_of
from gateway.db import Database
from gateway.settings import Settings


@click.group()
def files() -> None:
    """Files kept in the database (attachments)."""


@files.command("import")
@click.pass_context
def files_import(ctx: click.Context) -> None:
    """Move the attachment files under the data folder into the database (run by `db upgrade`; safe to repeat)."""
    settings = settings_of(ctx)
    database = Database(settings.database_url)
    try:
        with clear_errors():
            database.require_migrated()
        click.echo(import_from_disk(database, settings))
    finally:
        database.dispose()


def import_from_disk(database: Database, settings: Settings) -> str:
    """Move the files an earlier release kept under the data folder; the one line saying how many."""
    from gateway.requests.file_import import import_attachments, legacy_folder

    return str(import_attachments(database, legacy_folder(settings.data_dir)))
