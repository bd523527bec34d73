"""A plugin that declares a service key another plugin already provides."""

from __future__ import annotations

from gateway import Localized, ServiceDefinition, hookimpl

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.0"


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [
        ServiceDefinition(
            key="contact",
            title=Localized("Doublon"),
            description=Localized("Doublon"),
            reference_prefix="DUP",
            purpose=Localized("Aucun"),
        )
    ]
