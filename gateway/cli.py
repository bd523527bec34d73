"""The ``guichet`` command: serve, migrate, inspect plugins and communes, seed the demo."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from gateway.app import load_registry
from gateway.db import Database, NotMigrated
from gateway.registry import Registry
from gateway.settings import CONFIG_ENV, ConfigError, Settings, load_settings


@contextmanager
def _clear_errors() -> Iterator[None]:
    """Configuration and migration faults end the command with one clear line."""
    try:
        yield
    except (ConfigError, NotMigrated) as error:
        raise click.ClickException(str(error)) from None


def _settings(ctx: click.Context) -> Settings:
    with _clear_errors():
        return load_settings(ctx.obj["config"])


def _registry(ctx: click.Context) -> Registry:
    with _clear_errors():
        return load_registry(_settings(ctx))


@click.group(name="guichet", context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=CONFIG_ENV,
    help="Folder holding gateway.toml and communes/ (default: $GUICHET_CONFIG, else this checkout's config/).",
)
@click.version_option(package_name="guichet")
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """Guichet: the e-services gateway of an inter-municipal syndicate."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config.resolve() if config else None


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="HOST", help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), envvar="PORT", help="Port.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64), help="Worker processes.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the gateway with uvicorn (refuses to start on a bad configuration or database)."""
    import uvicorn

    registry = _registry(ctx)
    with _clear_errors():
        Database(registry.settings.database_url).require_migrated()
    os.environ[CONFIG_ENV] = str(registry.settings.config_dir)
    click.echo(f"Guichet: {len(registry.communes)} communes, serving on http://{host}:{port}", err=True)
    uvicorn.run(
        "gateway.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        server_header=False,
    )


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate the configuration files against the installed plugins."""
    registry = _registry(ctx)
    for failure in registry.plugins.failures.values():
        click.echo(f"plugin {failure.plugin} is out of service (failed in {failure.hook}: {failure.error})", err=True)
    if registry.plugins.failures:
        raise click.ClickException("some plugins failed: their services answer 'temporarily unavailable'")
    click.echo(f"configuration OK: {len(registry.communes)} communes, {len(registry.services)} services")


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target migration.")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply the migrations (safe to run again: it does nothing when up to date)."""
    database = Database(_settings(ctx).database_url)
    database.upgrade(revision)
    current, _head = database.migration_state()
    click.echo(f"database at migration {current}")


@db.command("status")
@click.pass_context
def db_status(ctx: click.Context) -> None:
    """Show the current and expected migrations; exit 1 when an upgrade is needed."""
    current, head = Database(_settings(ctx).database_url).migration_state()
    click.echo(f"current: {current or 'none'}\nexpected: {head}")
    if current != head:
        click.echo("run `guichet db upgrade`", err=True)
        sys.exit(1)


@main.group()
def plugins() -> None:
    """Installed plugins."""


@plugins.command("list")
@click.pass_context
def plugins_list(ctx: click.Context) -> None:
    """Every plugin: distribution, version, hooks, services and the communes enabling each."""
    registry = _registry(ctx)
    plugin_set = registry.plugins
    services_by_plugin: dict[str, list[str]] = {}
    for key, provided in registry.services.items():
        services_by_plugin.setdefault(provided.plugin, []).append(key)
    names = sorted(set(plugin_set.names()) | set(plugin_set.failures))
    for name in names:
        dist, version = plugin_set.distributions.get(name, ("guichet", _core_version()))
        state = "FAILED" if name in plugin_set.failures else "active"
        click.echo(f"{name}  ({dist} {version}, {state})")
        if name in plugin_set.failures:
            failure = plugin_set.failures[name]
            click.echo(f"  failed in {failure.hook}: {failure.error}")
            continue
        click.echo(f"  hooks: {', '.join(plugin_set.hooks_of(name)) or '-'}")
        for key in sorted(services_by_plugin.get(name, [])):
            communes = registry.enabled_by(key)
            click.echo(f"  service {key}: enabled by {', '.join(communes) if communes else 'no commune'}")
    for name in plugin_set.blocked:
        click.echo(f"{name}  (blocked by configuration)")


def _core_version() -> str:
    from gateway import __version__

    return __version__


@main.group()
def communes() -> None:
    """Member communes."""


@communes.command("list")
@click.pass_context
def communes_list(ctx: click.Context) -> None:
    """Every commune with its INSEE code and enabled services."""
    registry = _registry(ctx)
    for commune in registry.communes.values():
        services = []
        for key in commune.services:
            services.append(key if registry.is_available(key) else f"{key} (unavailable)")
        seat = " [seat]" if commune.seat else ""
        click.echo(f"{commune.slug:<16} {commune.insee}  {commune.name}{seat}  services: {', '.join(services) or '-'}")


@main.group()
def demo() -> None:
    """The demo syndicate."""


@demo.command("seed")
@click.pass_context
def demo_seed(ctx: click.Context) -> None:
    """Load the demo data (idempotent: running it twice adds nothing)."""
    from gateway.demo import seed

    registry = _registry(ctx)
    if not registry.settings.gateway.demo:
        raise click.ClickException("demo data can only be loaded when gateway.demo = true")
    database = Database(registry.settings.database_url)
    with _clear_errors():
        database.require_migrated()
    created = seed(database, registry)
    click.echo(f"demo data: {created} new request(s)")
