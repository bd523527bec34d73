"""A service asking for one document, with the default workflow: for retention and personal-data tests."""

from __future__ import annotations

from gateway import Commune, DocumentSpec, FormField, Localized, ServiceDefinition, ServiceSettings, hookimpl

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.0"

SERVICE = ServiceDefinition(
    key="papers",
    title=Localized("Justificatif", "Proof"),
    description=Localized("Déposer un justificatif.", "Hand in a proof."),
    reference_prefix="PAP",
    purpose=Localized("Instruire le justificatif déposé", "Checking the proof handed in"),
    retention_days=30,
    documents=(DocumentSpec("proof", Localized("Justificatif", "Proof")),),
)


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE]


@hookimpl
def guichet_service_form(service: ServiceDefinition, commune: Commune, settings: ServiceSettings) -> list[FormField]:
    if service.key != SERVICE.key:
        return []
    return [FormField("topic", Localized("Objet", "Subject"), max_length=100)]
