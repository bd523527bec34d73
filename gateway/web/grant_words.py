"""A staff member's grant in words, for the pages they read: « Agent instructeur — Vénissieux, Écrire à la mairie ».

The grant's stored form (``agent:venissieux:*:instructor``) is for the
command line and the audit log; a person reads their role, the commune's name
and the service's title, in the page's language.
"""

from __future__ import annotations

from gateway.identity.principal import Grant
from gateway.registry import Registry
from gateway.services import Localized

#: what each role (and, for agents, each level) is called
ROLE_WORDS = {
    ("agent", "reader"): Localized("Agent en consultation", "Agent, read only"),
    ("agent", "instructor"): Localized("Agent instructeur", "Case officer"),
    ("agent", "supervisor"): Localized("Responsable de service", "Service supervisor"),
    ("supervisor", None): Localized("Responsable de commune", "Commune supervisor"),
    ("auditor", None): Localized("Auditeur", "Auditor"),
    ("administrator", None): Localized("Administrateur", "Administrator"),
}
EVERY_COMMUNE = Localized("tout le syndicat", "the whole syndicate")
EVERY_SERVICE = Localized("toutes les démarches", "every service")


def grant_words(grant: Grant, registry: Registry, locale: str) -> str:
    """The grant as a person reads it: the role, where it applies, and for an agent which service."""
    level = (grant.level or "instructor") if grant.role == "agent" else None
    role = ROLE_WORDS[(grant.role, level)](locale) if (grant.role, level) in ROLE_WORDS else grant.role
    commune = registry.commune(grant.commune) if grant.commune else None
    where = commune.name if commune else grant.commune or EVERY_COMMUNE(locale)
    if grant.role != "agent":
        return f"{role} — {where}"
    provided = registry.services.get(grant.service) if grant.service else None
    what = provided.definition.title(locale) if provided else grant.service or EVERY_SERVICE(locale)
    return f"{role} — {where}, {what}"
