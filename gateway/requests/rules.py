"""A service as one commune offers it, resolved once per HTTP request and handed down as one object.

:func:`rules_for` runs the plugin's form hook; pages, the API and the back
office resolve the rules once and pass them to the service layer, which
does not ask the plugin again for the same request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from gateway.communes import Commune
from gateway.plugins import HookFailed
from gateway.registry import ProvidedService, Registry
from gateway.requests.errors import ActionNotAllowed, ServiceUnavailable
from gateway.services import FormField, ServiceDefinition, ServiceSettings, TransitionRefused

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceRules:
    """A service as one commune offers it: the plugin's definition, the commune's settings, the form."""

    commune: Commune
    provided: ProvidedService
    settings: ServiceSettings
    form: Sequence[FormField]
    #: the plugin's definition, its documents joined by the form's ``document`` fields (in this commune)
    definition: ServiceDefinition

    @property
    def key(self) -> str:
        return self.provided.definition.key

    @property
    def hook_args(self) -> dict[str, Any]:
        return {"service": self.definition, "commune": self.commune, "settings": self.settings}


def rules_for(registry: Registry, commune: Commune, key: str) -> ServiceRules:
    """Raises :class:`ServiceUnavailable` when the service is not enabled here or its plugin failed."""
    provided = registry.services.get(key)
    settings = commune.services.get(key)
    if provided is None or settings is None or not registry.is_available(key):
        raise ServiceUnavailable(key, provided.plugin if provided else None)
    with unavailable_on_failure(key):
        form = registry.hooks.first(
            "guichet_service_form",
            only=provided.plugin,
            service=provided.definition,
            commune=commune,
            settings=settings,
        )
    fields = tuple(form or ())
    return ServiceRules(commune, provided, settings, fields, _with_field_documents(provided, fields))


def _with_field_documents(provided: ProvidedService, form: Sequence[FormField]) -> ServiceDefinition:
    """The definition whose documents include the form's document fields, checked as the definition's own are."""
    documents = tuple(field.as_document() for field in form if field.kind == "document")
    if not documents:
        return provided.definition
    try:
        return replace(provided.definition, documents=(*provided.definition.documents, *documents))
    except ValueError as error:  # a document field without sign-in, or named like another document
        log.error("plugin %s: the form of %s is refused: %s", provided.plugin, provided.definition.key, error)
        raise ServiceUnavailable(provided.definition.key, provided.plugin) from error


@contextmanager
def unavailable_on_failure(key: str) -> Iterator[None]:
    """A plugin's failure makes the service unavailable (503), nothing of the action kept."""
    try:
        yield
    except HookFailed as failure:
        raise ServiceUnavailable(key, failure.plugin) from failure


@contextmanager
def plugin_call(key: str) -> Iterator[None]:
    """As :func:`unavailable_on_failure`, but the plugin's explicit refusal becomes a 409 with its reason."""
    try:
        yield
    except HookFailed as failure:
        if isinstance(failure.__cause__, TransitionRefused):
            raise ActionNotAllowed(failure.__cause__.reason) from None
        raise ServiceUnavailable(key, failure.plugin) from failure
