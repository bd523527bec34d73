"""``guichet demo``: load the demo syndicate's data (the demo package is imported only when asked)."""

from __future__ import annotations

from datetime import timedelta

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
    help="Also file N more requests from demo citizens over the past weeks, with agents' activity on them, and "
    "(the first time) the anomalies a review of the audit log must surface (each run adds N).",
)
@click.option("--seed", "random_seed", type=int, default=1, show_default=True, help="Random seed for --requests.")
@click.pass_context
def demo_seed(ctx: click.Context, activity: int, random_seed: int) -> None:
    """Load the demo data (idempotent: running it twice adds nothing, except what --requests asks for)."""
    from gateway import clock
    from gateway.demo.activity import seed_activity
    from gateway.demo.anomalies import Planted, plan_anomalies
    from gateway.demo.seed import seed

    registry = registry_of(ctx)
    if not registry.settings.gateway.demo:
        raise click.ClickException("demo data can only be loaded when gateway.demo = true")
    database = Database(registry.settings.database_url)
    with clear_errors():
        database.require_migrated()
    created = seed(database, registry)
    heartbeat = None
    if activity:
        until, planted = clock.now(), Planted()
        anomalies = plan_anomalies(database, registry, until, planted)
        summary = seed_activity(database, registry, activity, seed=random_seed, until=until, extra=anomalies)
        click.echo(str(summary))
        click.echo(str(planted))
        heartbeat = timedelta(minutes=1)  # the activity ended in the past: the seal needs an entry of now
    checkpoint = seal(database, signer_of(registry.settings), registry.settings.audit_origin, heartbeat_after=heartbeat)
    database.dispose()
    click.echo(f"demo data: {created} new request(s); audit log sealed at {checkpoint.size} entries")
