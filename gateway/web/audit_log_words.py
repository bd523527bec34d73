"""An audit entry as the auditor console shows it: commune names, service titles and codes in the page's language.

The console's pages and its CSV export for people read entries through
here; the sealed fields are untouched (the entry page keeps them one click
away, the API and the JSON export give them as sealed). The words are in
:mod:`gateway.audit.auditor_words` and :mod:`gateway.audit.purposes`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from gateway.audit.auditor_words import ACTIONS, OUTCOMES, action_words, outcome_words, refusal_purpose, role_words
from gateway.audit.purposes import purpose_text
from gateway.audit.search import csv_rows, defuse_cell
from gateway.db import Database
from gateway.models import AuditEntry, StaffUser
from gateway.registry import Registry
from gateway.services import Localized

NONE = "—"

#: resources whose kind has a name: ``<kind>/<id>`` shown as « Demande MSG-2026-000001 »
_RESOURCES: dict[str, Localized] = {
    "request": Localized("Demande {id}", "Request {id}"),
    "draft": Localized("Brouillon n° {id}", "Draft no. {id}"),
    "staff": Localized("Compte d'agent staff:{id}", "Staff account staff:{id}"),
    "audit-entry": Localized("Entrée {id} du journal d'audit", "Audit entry {id}"),
    "outbox": Localized("Message n° {id}", "Message no. {id}"),
    "api-token": Localized("Jeton d'API n° {id}", "API token no. {id}"),
}
_QUEUE = Localized("File d'attente de {commune}", "{commune} queue")
#: ``<kind>/<commune>/<service>``
_BY_SERVICE: dict[str, Localized] = {
    "places": Localized("Tableau des places de {commune} ({service})", "{commune} places board ({service})"),
    "counter": Localized("Dépôt au guichet d'accueil de {commune} ({service})", "{commune} front desk ({service})"),
}
_ENTRY_PROOF = Localized("Preuve de l'entrée {id} du journal d'audit", "Proof of audit entry {id}")
_AUDIT_SEARCH = Localized("Recherche dans le journal : {query}", "Audit log search: {query}")


@dataclass(frozen=True)
class ReadableEntry:
    """One entry in words; ``seq``, ``time`` and ``actor_id`` are identifiers, shown as they are."""

    seq: int
    time: datetime
    commune: str
    service: str
    actor: str
    actor_id: str
    action: str
    resource: str
    subject: str
    purpose: str
    origin: str
    outcome: str


def commune_name(registry: Registry, slug: str | None) -> str:
    """The commune's name from its file; the slug for a commune no longer configured; « — » for none."""
    if not slug:
        return NONE
    commune = registry.communes.get(slug)
    return commune.name if commune is not None else slug


def _service_title(registry: Registry, key: str | None, locale: str) -> str | None:
    provided = registry.services.get(key or "")
    return provided.definition.title(locale) if provided is not None else None


def resource_words(resource: str, registry: Registry, locale: str) -> str:
    """« Demande MSG-2026-000001 », « File d'attente de Corbas »; the recorded text for other resources."""
    if resource.startswith("audit-log?"):
        return _AUDIT_SEARCH(locale).format(query=resource.removeprefix("audit-log?") or NONE)
    kind, _, rest = resource.partition("/")
    if not rest:
        return resource
    if kind == "queue":
        return _QUEUE(locale).format(commune=commune_name(registry, rest))
    if kind in _BY_SERVICE:
        slug, _, service = rest.partition("/")
        title = _service_title(registry, service, locale) or service or NONE
        return _BY_SERVICE[kind](locale).format(commune=commune_name(registry, slug), service=title)
    if kind == "audit-entry" and rest.endswith("/proof"):
        return _ENTRY_PROOF(locale).format(id=rest.removesuffix("/proof"))
    template = _RESOURCES.get(kind)
    return template(locale).format(id=rest) if template is not None else resource


def purpose_words(entry: AuditEntry, registry: Registry, locale: str) -> str:
    provided = registry.services.get(entry.service or "")
    refused = refusal_purpose(entry.purpose, locale)
    if refused is not None:
        return refused
    return purpose_text(entry.purpose, provided.definition.purpose if provided is not None else None, locale)


def staff_names(db: Database, entries: Iterable[AuditEntry]) -> dict[str, str]:
    """The display names of the staff members who acted in ``entries``, by actor id (``staff:12``)."""
    ids = {int(number) for entry in entries if (number := entry.actor_id.removeprefix("staff:")).isdigit()
           and entry.actor_id.startswith("staff:")}  # fmt: skip
    if not ids:
        return {}
    with db.read_session(all_communes=True) as session:
        found = session.exec(select(StaffUser.id, StaffUser.display_name).where(col(StaffUser.id).in_(ids))).all()
    return {f"staff:{number}": name for number, name in found if name}


def readable(
    entry: AuditEntry, registry: Registry, locale: str, names: Mapping[str, str] | None = None
) -> ReadableEntry:
    """The entry in words; ``names`` (:func:`staff_names`) adds who the staff member acting is to their role."""
    title = _service_title(registry, entry.service, locale)
    role = role_words(entry.actor_role, locale)
    name = (names or {}).get(entry.actor_id)
    return ReadableEntry(
        seq=entry.seq,
        time=entry.time,
        commune=commune_name(registry, entry.commune),
        service=title or entry.service or NONE,
        actor=f"{role}, {name}" if name else role,
        actor_id=entry.actor_id,
        action=action_words(entry.action, locale, title),
        resource=resource_words(entry.resource, registry, locale),
        subject=entry.subject or NONE,
        purpose=purpose_words(entry, registry, locale),
        origin=entry.origin,
        outcome=outcome_words(entry.outcome, locale),
    )


def commune_choices(registry: Registry, slugs: list[str]) -> list[tuple[str, str]]:
    """(slug, name) for the search form, by name."""
    return sorted(((slug, commune_name(registry, slug)) for slug in slugs), key=lambda pair: pair[1].casefold())


def action_choices(locale: str) -> list[tuple[str, str]]:
    """(code, words) of every core action, by words, for the search form."""
    return sorted(((code, words(locale)) for code, words in ACTIONS.items() if code != "readiness.probe"),
                  key=lambda pair: pair[1].casefold())  # fmt: skip


def outcome_choices(locale: str) -> list[tuple[str, str]]:
    return [(code, words(locale)) for code, words in OUTCOMES.items()]


#: the columns in words the console's CSV adds after the sealed ones, for a person opening it in a spreadsheet
WORD_COLUMNS: tuple[tuple[str, Localized], ...] = (
    ("commune", Localized("Commune (nom)", "Commune (name)")),
    ("service", Localized("Démarche (titre)", "Service (title)")),
    ("actor", Localized("Acteur (rôle)", "Actor (role)")),
    ("action", Localized("Action (en clair)", "Action (in words)")),
    ("resource", Localized("Ressource (en clair)", "Resource (in words)")),
    ("purpose", Localized("Finalité (en clair)", "Purpose (in words)")),
    ("outcome", Localized("Résultat (en clair)", "Outcome (in words)")),
)


def csv_rows_in_words(
    entries: list[AuditEntry], registry: Registry, locale: str, names: Mapping[str, str] | None = None
) -> list[list[str]]:
    """The sealed columns as the API gives them (codes, for tools), then the same entry in words (for people)."""
    rows = csv_rows(entries)
    rows[0] += [title(locale) for _, title in WORD_COLUMNS]
    for row, entry in zip(rows[1:], entries, strict=True):
        words = readable(entry, registry, locale, names)
        row += [defuse_cell(str(getattr(words, name))) for name, _ in WORD_COLUMNS]
    return rows
