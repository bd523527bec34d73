"""``guichet demo``: load the demo syndicate's data (the demo package is imported only when asked)."""

from __future__ import annotations

import click

from gateway.audit.sealing import seal
from gateway.cli.context import clear_errors, registry_of, signer_of
from gateway.db import Database


@click.group()
def demo() -> None:
    """The demo syndicate."""


@demo.command("seed")
@click.option(
    "--requests",
    "activity",
    type=click.IntRange(0, 100_000),
    default=0,
    show_default=True,
    help="Also file N more requests from demo citizens, with agents' activity on them (each run adds N).",
)
@click.option("--seed", "random_seed", type=int, default=1, show_default=True, help="Random seed for --requests.")
@click.pass_context
def demo_seed(ctx: click.Context, activity: int, random_seed: int) -> None:
    """Load the demo data (idempotent: running it twice adds nothing, except what --requests asks for)."""
    from gateway.demo.activity import seed_activity
    from gateway.demo.seed import seed

    registry = registry_of(ctx)
    if not registry.settings.gateway.demo:
        raise click.ClickException("demo data can only be loaded when gateway.demo = true")
    database = Database(registry.settings.database_url)
    with clear_errors():
        database.require_migrated()
    created = seed(database, registry)
    if activity:
        summary = seed_activity(database, registry, activity, seed=random_seed)
        click.echo(str(summary))
    checkpoint = seal(database, signer_of(registry.settings), registry.settings.audit_origin)
    database.dispose()
    click.echo(f"demo data: {created} new request(s); audit log sealed at {checkpoint.size} entries")
