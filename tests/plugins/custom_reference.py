"""Overrides the core's reference format (a firstresult hook, tried first)."""

from __future__ import annotations

from gateway import Commune, ServiceDefinition, hookimpl

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.0"


@hookimpl(tryfirst=True)
def guichet_reference_number(commune: Commune, service: ServiceDefinition, year: int, sequence: int) -> str:
    return f"{commune.insee}/{service.reference_prefix}/{sequence}"
