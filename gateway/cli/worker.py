"""``guichet worker``: run the background jobs on their schedule; ``guichet worker status``: what ran, what is due.

Any number of workers may run at once, on one machine or several: each slot of
each job is run by one of them (:mod:`gateway.worker.slots`).
"""

from __future__ import annotations

import logging
import logging.config
import signal
import threading
from datetime import UTC, datetime

import click
from sqlalchemy.exc import OperationalError

from gateway.cli.context import clear_errors, migrated_database, registry_of
from gateway.cli.failures import SettingFault
from gateway.db import Database
from gateway.notify.delivery import new_worker_id
from gateway.observability.logs import logging_config
from gateway.settings import Settings
from gateway.settings.worker import Schedule
from gateway.worker.jobs import JobSetupError, build_jobs
from gateway.worker.loop import Worker, describe, one_line
from gateway.worker.parent_watch import stop_when_parent_ends
from gateway.worker.status import status_lines


def _enabled(settings: Settings) -> list[Schedule]:
    schedules = [schedule for schedule in settings.worker.schedules() if schedule.enabled]
    if not schedules:
        raise SettingFault(f"{settings.config_dir / 'gateway.toml'}: worker: every job is disabled, nothing to run")
    return schedules


def _log_to_stderr(settings: Settings) -> None:
    """One record per run on stderr, in the deployment's log format (``[logging]``, as ``guichet serve`` writes),
    unless logging was set up already."""
    if not logging.getLogger().handlers:
        logging.config.dictConfig(logging_config(settings.logging.format, settings.logging.level))


@click.group(invoke_without_command=True)
@click.option("--once", is_flag=True, help="Run the jobs due now (each slot not yet run), print the runs and exit.")
@click.option("--parent-pid", type=click.IntRange(1), default=None, hidden=True)  # set by `guichet serve`
@click.pass_context
def worker(ctx: click.Context, once: bool, parent_pid: int | None) -> None:
    """Run the background jobs on the schedule of gateway.toml's [worker] until Ctrl-C (or SIGTERM)."""
    if ctx.invoked_subcommand is not None:
        return
    registry = registry_of(ctx)
    settings = registry.settings
    schedules = _enabled(settings)
    database = Database(settings.database_url, lock_wait_seconds=settings.database_lock_wait_seconds)
    me = new_worker_id()
    try:
        with clear_errors():
            database.require_migrated()
        jobs = build_jobs(database, registry, [schedule.job for schedule in schedules], worker=me)
    except JobSetupError as error:
        database.dispose()
        raise SettingFault(str(error)) from None
    except click.ClickException:
        database.dispose()
        raise
    except OperationalError as error:
        database.dispose()
        raise SettingFault(f"database unreachable: {one_line(error.orig or error)}") from None
    runner = Worker(database, schedules, jobs, me, settings.worker.hold_seconds)
    if once:
        runner.on_run = lambda result: click.echo(describe(result))
        try:
            runner.run_due()
        finally:
            database.dispose()
        return
    _log_to_stderr(settings)
    _run_until_signalled(runner, parent_pid)
    database.dispose()


def _run_until_signalled(runner: Worker, parent_pid: int | None) -> None:
    """SIGTERM or Ctrl-C (or the end of the server that started us): stop after the job in progress;
    a second signal stops at once."""
    stop = threading.Event()
    if parent_pid is not None:
        stop_when_parent_ends(parent_pid, stop)

    def ask_to_stop(_signum: int, _frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        logging.getLogger("gateway.worker").info("worker: stopping after the job in progress")
        stop.set()

    previous = {number: signal.signal(number, ask_to_stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        runner.run_until(stop)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@worker.command("status")
@click.option("--last", type=click.IntRange(1, 1000), default=10, show_default=True, help="Runs listed.")
@click.pass_context
def worker_status(ctx: click.Context, last: int) -> None:
    """Each job's schedule, last run and next due time (UTC), then the most recent runs."""
    settings, database = migrated_database(ctx)
    try:
        for line in status_lines(database, settings.worker.schedules(), now=datetime.now(UTC), last=last):
            click.echo(line)
    finally:
        database.dispose()
