"""A service whose plugin records its own audit event when a request is filed."""

from __future__ import annotations

from gateway import FormField, Localized, RequestHandle, ServiceDefinition, hookimpl

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.0"

SERVICE = ServiceDefinition(
    key="signalement",
    title=Localized("Signalement", "Report"),
    description=Localized("Signaler un problème.", "Report a problem."),
    reference_prefix="SIG",
    purpose=Localized("Traiter le signalement.", "Handle the report."),
    subject_field="email",
    requires_sign_in=False,
)


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE]


@hookimpl
def guichet_service_form(service: ServiceDefinition) -> list[FormField]:
    return [
        FormField("email", Localized("Courriel", "E-mail"), kind="email"),
        FormField("what", Localized("Quoi", "What")),
    ]


@hookimpl
def guichet_request_submitted(request: RequestHandle) -> None:
    request.record_event("triaged")
