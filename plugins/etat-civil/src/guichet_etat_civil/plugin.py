"""The rules of « Demande d'acte d'état civil »: the hooks the gateway calls, each handing over to its module.

The plugin holds no data: the core stores the request and hands this plugin a
:class:`~gateway.request_handle.RequestHandle`. The service is declared in
:mod:`~guichet_etat_civil.service`, its workflow in
:mod:`~guichet_etat_civil.workflow`, the form in :mod:`~guichet_etat_civil.form`,
its checks in :mod:`~guichet_etat_civil.validation` and the prefill in
:mod:`~guichet_etat_civil.prefill`. Who may obtain what is decided by
:mod:`guichet_etat_civil.entitlement`, a pure function.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway import (
    CitizenIdentity,
    Commune,
    FieldError,
    FormField,
    RequestHandle,
    ServiceDefinition,
    Transition,
    TransitionRefused,
    hookimpl,
)
from guichet_etat_civil.entitlement import FORM_LABELS
from guichet_etat_civil.form import service_form
from guichet_etat_civil.prefill import prefilled
from guichet_etat_civil.service import KEY, SERVICE
from guichet_etat_civil.settings import EtatCivilSettings
from guichet_etat_civil.validation import validation_errors
from guichet_etat_civil.workflow import WORKFLOW, queue_summary, refusal_for

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.2"

__all__ = [
    "FORM_LABELS",
    "KEY",
    "SERVICE",
    "WORKFLOW",
    "guichet_prefill_form",
    "guichet_request_submitted",
    "guichet_request_transition",
    "guichet_service_form",
    "guichet_services",
    "guichet_validate_request",
]


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE]


@hookimpl
def guichet_service_form(commune: Commune, settings: EtatCivilSettings) -> list[FormField]:
    """The form, in the order an agent reads it to find the record: what, where, whom, who asks, how."""
    return service_form(commune, settings)


@hookimpl
def guichet_validate_request(
    commune: Commune, settings: EtatCivilSettings, data: Mapping[str, str], citizen: CitizenIdentity | None
) -> list[FieldError]:
    """The place rule, the registers held online, the quality and who may obtain what."""
    return validation_errors(commune, settings, data, citizen)


@hookimpl
def guichet_prefill_form(commune: Commune, citizen: CitizenIdentity) -> dict[str, str] | None:
    """From a verified identity: the requester, and a request for one's own birth record (see ``prefilled``)."""
    return prefilled(commune, citizen)


@hookimpl
def guichet_request_submitted(request: RequestHandle) -> None:
    """Queue summary for agents: kind, document, copies and delivery, never a name or a date."""
    request.summary = queue_summary(request.data)


@hookimpl
def guichet_request_transition(request: RequestHandle, transition: Transition) -> None:
    """A second lock on the delivery: never "sent by post" for a counter request, nor the reverse."""
    refusal = refusal_for(request.data, transition)
    if refusal is not None:
        raise TransitionRefused(refusal)
