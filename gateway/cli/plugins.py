"""``guichet plugins``: which plugins are loaded, their hooks and services, and which failed or are blocked."""

from __future__ import annotations

import click

from gateway.cli.context import registry_of
from gateway.local_plugins import LOCAL_PREFIX


@click.group()
def plugins() -> None:
    """Installed plugins."""


@plugins.command("list")
@click.pass_context
def plugins_list(ctx: click.Context) -> None:
    """Every plugin: distribution, version, plugin API it targets, hooks, services and the communes enabling each."""
    from gateway.plugin_version import API_VERSION

    registry = registry_of(ctx)
    plugin_set = registry.plugins
    services_by_plugin: dict[str, list[str]] = {}
    for key, provided in registry.services.items():
        services_by_plugin.setdefault(provided.plugin, []).append(key)
    names = sorted(set(plugin_set.names()) | set(plugin_set.failures))
    click.echo(f"plugin API offered: {API_VERSION}")
    for name in names:
        dist, version = plugin_set.distributions.get(name, ("guichet", _core_version()))
        origin = "a commune's local plugin" if name.startswith(LOCAL_PREFIX) else f"{dist} {version}"
        state = "FAILED" if name in plugin_set.failures else "active"
        api = plugin_set.api_version_of(name)
        click.echo(f"{name}  ({origin}, {f'plugin API {api}, ' if api else ''}{state})")
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
