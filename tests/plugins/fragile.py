"""A service whose hooks raise when the message says so, to test failure isolation."""

from __future__ import annotations

from collections.abc import Mapping

from gateway import FieldError, FormField, Localized, RequestHandle, ServiceDefinition, hookimpl

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.0"

SERVICE = ServiceDefinition(
    key="fragile",
    title=Localized("Service fragile", "Fragile service"),
    description=Localized("Un service de test.", "A test service."),
    reference_prefix="FRG",
    purpose=Localized("Tester.", "Testing."),
    requires_sign_in=False,
)


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE]


@hookimpl
def guichet_service_form(service: ServiceDefinition) -> list[FormField]:
    return [FormField("text", Localized("Texte", "Text"))]


@hookimpl
def guichet_validate_request(data: Mapping[str, str]) -> list[FieldError]:
    if data.get("text") == "fail-validation":
        raise RuntimeError("validation exploded")
    return []


@hookimpl
def guichet_request_submitted(request: RequestHandle) -> None:
    request.summary = "seen by fragile"
    if request.data.get("text") == "fail-submitted":
        raise RuntimeError("reaction exploded")
