"""A service whose law sets a minimum retention: for the per-service retention tests."""

from __future__ import annotations

from gateway import Localized, ServiceDefinition, hookimpl

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.0"

SERVICE = ServiceDefinition(
    key="registre",
    title=Localized("Registre", "Register"),
    description=Localized("Une inscription au registre.", "An entry in the register."),
    reference_prefix="REG",
    purpose=Localized("Tenir le registre", "Keeping the register"),
    retention_days=3650,
    retention_min_days=1825,
)


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE]
