"""``guichet outbox``: deliver the messages to people over SMTP, and show what is pending, sent or failed."""

from __future__ import annotations

import click
from sqlalchemy import func
from sqlmodel import select

from gateway.cli.context import migrated_database


@click.group()
def outbox() -> None:
    """The outbox: messages to people, delivered over SMTP."""


@outbox.command("deliver")
@click.option("--once", is_flag=True, help="Deliver what is due now, print the counts and exit.")
@click.option("--every", type=click.IntRange(min=1), default=10, show_default=True, help="Seconds between passes.")
@click.pass_context
def outbox_deliver(ctx: click.Context, once: bool, every: int) -> None:
    """Send the messages that are due; without --once, keep doing so until Ctrl-C (any number of workers may run)."""
    import signal
    import threading

    from gateway.notify.delivery import deliver_due, run_worker

    settings, database = migrated_database(ctx)
    if once:
        report = deliver_due(database, settings)
        database.dispose()
        click.echo(str(report))
        return
    stop = threading.Event()

    def ask_to_stop(_signum: int, _frame: object) -> None:
        if stop.is_set():  # a second Ctrl-C: do not wait for the pass in progress
            raise KeyboardInterrupt
        click.echo("stopping after the current pass (Ctrl-C again to stop at once)", err=True)
        stop.set()

    previous = {number: signal.signal(number, ask_to_stop) for number in (signal.SIGINT, signal.SIGTERM)}
    click.echo(f"delivering the outbox every {every} s (Ctrl-C to stop)", err=True)
    try:
        run_worker(database, settings, every, stop, on_pass=lambda report: click.echo(str(report)))
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        database.dispose()


@outbox.command("list")
@click.pass_context
def outbox_list(ctx: click.Context) -> None:
    """Pending, sent and failed counts, and the 20 most recent messages (addresses masked)."""
    from sqlmodel import col

    from gateway.models import OutboxMessage
    from gateway.notify.outbox import masked, state_of

    _unused, database = migrated_database(ctx)
    sent_at, failed_at = col(OutboxMessage.sent_at), col(OutboxMessage.failed_at)
    states = {
        "pending": sent_at.is_(None) & failed_at.is_(None),
        "sent": sent_at.is_not(None),
        "failed": failed_at.is_not(None),
    }
    newest_first = (col(OutboxMessage.created_at).desc(), col(OutboxMessage.id).desc())
    with database.session() as session:
        counts = {
            state: session.exec(select(func.count()).select_from(OutboxMessage).where(condition)).one()
            for state, condition in states.items()
        }
        recent = session.exec(select(OutboxMessage).order_by(*newest_first).limit(20)).all()
    database.dispose()
    click.echo(", ".join(f"{state} {number}" for state, number in counts.items()))
    if recent:
        click.echo(f"{'id':>6}  {'kind':<30} {'recipient':<34} {'state':<8} attempts")
    for message in recent:
        recipient = masked(message.recipient)
        click.echo(f"{message.id:>6}  {message.kind:<30} {recipient:<34} {state_of(message):<8} {message.attempts}")
