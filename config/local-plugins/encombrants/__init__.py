"""« Enlèvement des encombrants »: a local plugin of Rive-de-Gier, deployed from this folder.

Not a published distribution: Rive-de-Gier's file names this folder under
``[[local_plugins]]``, and the service is offered there only. It imports only
the public plugin API, as every plugin does; the gateway checks so before it
runs a line of it (docs/local_plugins.md).
"""

from __future__ import annotations

from gateway import Commune, FormField, Localized, ServiceDefinition, ServiceSettings, hookimpl

#: the plugin API version this plugin is written for, checked at start as for any plugin
GUICHET_PLUGIN_API = "1.0"


class EncombrantsSettings(ServiceSettings):
    """What Rive-de-Gier sets in ``[services.encombrants]``."""

    pickup_weekday: str = "mardi"


SERVICE = ServiceDefinition(
    key="encombrants",
    title=Localized("Enlèvement des encombrants", "Bulky waste collection"),
    description=Localized(
        "Demandez l'enlèvement de vos objets encombrants devant chez vous.",
        "Ask for your bulky items to be collected outside your home.",
    ),
    reference_prefix="ENC",
    purpose=Localized(
        "Organiser l'enlèvement de vos encombrants (mission de service public de la commune).",
        "To arrange the collection of your bulky items (the commune's public-service mission).",
    ),
    settings=EncombrantsSettings,
    retention_days=180,
)


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE]


@hookimpl
def guichet_service_form(
    service: ServiceDefinition, commune: Commune, settings: EncombrantsSettings
) -> list[FormField]:
    return [
        FormField("address", Localized("Adresse de l'enlèvement", "Collection address"), max_length=200),
        FormField(
            "items",
            Localized("Objets à enlever", "Items to collect"),
            kind="textarea",
            max_length=1000,
            help=Localized(
                f"Les encombrants sont enlevés le {settings.pickup_weekday} à {commune.name}.",
                f"Bulky items are collected on {settings.pickup_weekday}s in {commune.name}.",
            ),
        ),
    ]
