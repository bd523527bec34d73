"""``guichet serve`` and ``guichet check``: start the gateway, or check what it would refuse to start on."""

from __future__ import annotations

import os
import subprocess
import sys

import click

from gateway.audit.keys import NoSigningKey
from gateway.cli.context import clear_errors, registry_of
from gateway.cli.starting import wait_for_database
from gateway.db import Database
from gateway.observability.serving import serving_options
from gateway.settings import CONFIG_ENV, Settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="HOST", help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), envvar="PORT", help="Port.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.option(
    "--background/--no-background",
    default=None,
    help="Also run `guichet worker` (the background jobs) beside the server, stopped with it [default: in a demo].",
)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int, background: bool | None) -> None:
    """Serve the gateway with uvicorn (refuses to start on a bad configuration or database)."""
    from gateway.cli.supervisor import run_uvicorn  # uvicorn is imported when serving only

    registry = registry_of(ctx)
    database = Database(registry.settings.database_url)
    with clear_errors():  # unreachable: retried for [database] start_retry_seconds, then one line
        wait_for_database(database, registry.settings.database_start_retry_seconds, say=_say)
    database.dispose()
    os.environ[CONFIG_ENV] = str(registry.settings.config_dir)
    if registry.settings.gateway.demo:
        _start_demo_witnesses(registry.settings)
    jobs = _start_worker() if (registry.settings.gateway.demo if background is None else background) else None
    click.echo(f"Guichet: {len(registry.communes)} communes, serving on http://{host}:{port}", err=True)
    try:
        run_uvicorn(  # uvicorn.run, whose supervisor of several workers says why one ended
            "gateway.cli.workers:worker_app",  # create_app_from_env, logging why a worker could not start
            factory=True,
            host=host,
            port=port,
            workers=workers,
            proxy_headers=True,
            server_header=False,
            access_log=False,  # query strings carry one-time codes and id_token_hint; the audit log says who did what
            **serving_options(registry.settings, port=port, workers=workers),  # JSON logs, metrics shared by workers
        )
    finally:
        if jobs is not None:
            _stop_worker(jobs)


def _say(line: str) -> None:
    click.echo(line, err=True)


def _start_worker() -> subprocess.Popen[bytes]:
    """``guichet worker`` as a child, on the same deployment (``$GUICHET_CONFIG``, set above).

    It runs in a session of its own, so a Ctrl-C in the terminal reaches the server only; the server
    then asks the worker once to stop (SIGTERM), and it stops after the job in progress. A server killed
    outright asks nothing: the worker, given the server's pid, stops by itself once it is orphaned.
    """
    click.echo("background jobs: `guichet worker` started beside the server ([worker] in gateway.toml)", err=True)
    command = [sys.executable, "-m", "gateway", "worker", "--parent-pid", str(os.getpid())]
    return subprocess.Popen(command, start_new_session=True)  # noqa: S603 (our own command, no shell)


def _stop_worker(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _start_demo_witnesses(settings: Settings) -> None:
    """The demo's witnesses (see :mod:`gateway.demo.witnesses`); the worker sends them each checkpoint."""
    from gateway.demo.witnesses import start_demo_witnesses

    try:
        names = start_demo_witnesses(settings)
    except (NoSigningKey, OSError, ValueError) as error:
        raise click.ClickException(f"demo witnesses: {error}") from None
    if names:
        click.echo(f"demo witnesses: {', '.join(names)}; the worker sends checkpoints to them", err=True)


@click.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate the configuration files against the installed plugins."""
    registry = registry_of(ctx)
    for failure in registry.plugins.failures.values():
        click.echo(f"plugin {failure.plugin} is out of service (failed in {failure.hook}: {failure.error})", err=True)
    if registry.plugins.failures:
        raise click.ClickException("some plugins failed: their services answer 'temporarily unavailable'")
    from gateway.identity.providers import provider_registry
    from gateway.identity.service_claims import missing_claims

    for missing in missing_claims(registry, provider_registry(registry.settings)):
        click.echo(f"warning: {missing}", err=True)
    from gateway.requests.signing_keys import unsigned_communes

    for reason in unsigned_communes(registry.settings, registry.communes):
        click.echo(f"warning: {reason}: a document issued there would fail", err=True)
    communes, services = len(registry.communes), len(registry.services)
    click.echo(
        f"configuration OK: {communes} commune{'s' * (communes != 1)}, {services} service{'s' * (services != 1)}"
    )
