"""A plugin that raises while declaring its services."""

from __future__ import annotations

from gateway import ServiceDefinition, hookimpl

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.0"


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    raise RuntimeError("cannot declare services")
