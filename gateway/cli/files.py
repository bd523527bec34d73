"""``guichet files``: the files kept in the database, and moving in those an earlier release left on disk."""

from __future__ import annotations

from pathlib import Path

import click

from gateway import stored_files
from gateway.audit.prune_note import STORED_PREFIX
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
        click.echo(import_from_disk(database, settings) or "files import: no attachments folder here, nothing to move")
    finally:
        database.dispose()


@files.command("export")
@click.argument("name")
@click.argument("output", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.pass_context
def files_export(ctx: click.Context, name: str, output: Path) -> None:
    """Write the stored file NAME (as a prune record names an audit archive: `stored-file:<name>`) to OUTPUT."""
    settings = settings_of(ctx)
    database = Database(settings.database_url)
    try:
        with clear_errors():
            database.require_migrated()
        storage_name = name.removeprefix(STORED_PREFIX)
        with database.read_session() as session:
            try:
                data = stored_files.read(session, storage_name)
            except ValueError:
                raise click.ClickException(f"{name!r} is not the name of a stored file") from None
            except stored_files.FileCorrupted as error:
                raise click.ClickException(str(error)) from None
        output.write_bytes(data)
        click.echo(f"{len(data)} bytes written to {output}")
    finally:
        database.dispose()


def import_from_disk(database: Database, settings: Settings) -> str | None:
    """Move the files an earlier release kept under the data folder: what was done, None when there is no folder."""
    from gateway.requests.file_import import import_attachments, legacy_folder

    folder = legacy_folder(settings.data_dir)
    return str(import_attachments(database, folder)) if folder.is_dir() else None
