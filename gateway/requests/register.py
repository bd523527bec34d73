"""The processing register (GDPR article 30): one entry per commune and service, from the plugins' own words.

Each e-service declares its purpose, legal basis, form, documents and
retention; the commune's file may shorten or lengthen the retention. This
module puts them side by side so a commune's data-protection officer reads
the register from the running configuration rather than from a document that
drifts away from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.registry import Registry
from gateway.requests.errors import ServiceUnavailable
from gateway.requests.rules import rules_for


@dataclass(frozen=True)
class RegisterEntry:
    commune: str
    commune_name: str
    service: str
    title: str
    purpose: str
    legal_basis: str
    data_collected: tuple[str, ...]
    documents: tuple[str, ...]
    retention_days: int
    #: where ``retention_days`` comes from: "service default" or "commune file" (with the key, see below)
    retention_source: str
    retention_key: str
    #: the shortest retention the service's law allows (None: none)
    retention_min_days: int | None
    draft_days: int
    draft_days_source: str
    recipients: str
    available: bool


RECIPIENTS = "les agents habilités de la commune pour ce service ; les auditeurs du syndicat (journal d'audit)"


def processing_register(registry: Registry) -> list[RegisterEntry]:
    """Every (commune, service) pair the configuration enables, in commune then service order."""
    entries = []
    for slug in sorted(registry.communes):
        commune = registry.communes[slug]
        for key in commune.services:
            provided = registry.services.get(key)
            if provided is None:
                continue
            definition = provided.definition
            retention, drafts = commune.retention_of(definition), commune.draft_days_of(definition)
            try:
                form = rules_for(registry, commune, key).form
                fields, available = tuple(field.label.fr for field in form), True
            except ServiceUnavailable:
                fields, available = (), False
            entries.append(
                RegisterEntry(
                    commune=slug,
                    commune_name=commune.name,
                    service=key,
                    title=definition.title.fr,
                    purpose=definition.purpose.fr,
                    legal_basis=definition.legal_basis.fr if definition.legal_basis else "non précisée par le service",
                    data_collected=fields,
                    documents=tuple(document.label.fr for document in definition.documents),
                    retention_days=retention.days,
                    retention_source=retention.source,
                    retention_key=retention.key,
                    retention_min_days=definition.retention_min_days,
                    draft_days=drafts.days,
                    draft_days_source=drafts.source,
                    recipients=RECIPIENTS,
                    available=available,
                )
            )
    return entries
