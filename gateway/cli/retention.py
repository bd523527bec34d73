"""``guichet retention``: delete what is kept no longer, from cron."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from gateway.cli.context import clear_errors, registry_of
from gateway.db import Database


@click.group()
def retention() -> None:
    """Deleting what is kept no longer: expired drafts, decided requests past retention, orphan files."""


@retention.command("run")
@click.option("--now", "moment", type=click.DateTime(), default=None, help="Act as if it were this moment (UTC).")
@click.option("--batch", type=click.IntRange(min=1), default=500, show_default=True, help="Requests listed per round.")
@click.option("--dry-run", is_flag=True, help="Count what would be deleted, delete nothing.")
@click.pass_context
def retention_run(ctx: click.Context, moment: datetime | None, batch: int, dry_run: bool) -> None:
    """Apply the retention periods; safe to run from cron on several machines at once."""
    from gateway.requests.retention import run_retention

    registry = registry_of(ctx)
    database = Database(registry.settings.database_url)
    with clear_errors():
        database.require_migrated()
    try:
        report = run_retention(
            database, registry, now=moment.replace(tzinfo=UTC) if moment else None, batch=batch, dry_run=dry_run
        )
    finally:
        database.dispose()
    click.echo(str(report))
