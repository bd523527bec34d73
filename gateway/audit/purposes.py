"""The purposes the core records, in the reader's words.

An audit entry keeps its purpose as it was recorded — in French, the
commune's working language, and sealed with the entry. Pages show it in the
reader's language: a service's purpose through the service's own
:class:`~gateway.services.Localized` text, the core's from this catalogue.
What is in neither (a purpose recorded by a plugin since removed, or by an
older release) is shown as recorded. ``tests/test_purposes.py`` checks that
every purpose the core records is here.
"""

from __future__ import annotations

import re

from gateway.audit.search_purposes import AUDIT_PURPOSES
from gateway.services import Localized

#: the core's purposes, by the French text it records
CORE_PURPOSES: dict[str, Localized] = {
    text.fr: text
    for text in (
        Localized("authentification des usagers par fournisseur d'identité",
                  "citizens' sign-in through an identity provider"),
        Localized("authentification des usagers par compte local", "citizens' sign-in with a local account"),
        Localized("authentification des agents", "staff sign-in"),
        Localized("envoi d'un message transactionnel", "sending a message about a request"),
        Localized("droit d'accès de la personne concernée (RGPD, article 15)",
                  "the data subject's right of access (GDPR, article 15)"),
        Localized("droit d'accès de la personne concernée (RGPD, article 15) : preuves du journal d'accès",
                  "the data subject's right of access (GDPR, article 15): proofs of the access log"),
        Localized("droit d'accès et à la portabilité de la personne concernée (RGPD, articles 15 et 20)",
                  "the data subject's rights of access and to portability (GDPR, articles 15 and 20)"),
        Localized("contrôle de la traçabilité des accès aux données personnelles",
                  "auditing the accesses to personal data"),
        Localized("durée de conservation échue", "retention period over"),
        Localized("brouillon non déposé : durée de conservation échue", "draft never filed: retention period over"),
        Localized("protection contre la falsification de requête intersite (CSRF)",
                  "protection against cross-site request forgery (CSRF)"),
        Localized("jeton d'accès à l'API pour une intégration", "an API access token for an integration"),
    )
}  # fmt: skip
#: and the purposes an auditor states when searching the log (gateway/audit/search_purposes.py)
CORE_PURPOSES.update({text.fr: text for text in AUDIT_PURPOSES.values()})

_REFUSAL = re.compile(r"^contrôle d'accès : (?:(?P<tried>\S+) refusé ; )?rôle (?P<role>\S+) requis$")


def purpose_text(recorded: str, service_purpose: Localized | None, locale: str) -> str:
    """The purpose an entry records, in ``locale``; as recorded when it is not known."""
    if service_purpose is not None and recorded == service_purpose.fr:
        return service_purpose(locale)
    known = CORE_PURPOSES.get(recorded)
    if known is not None:
        return known(locale)
    refusal = _REFUSAL.match(recorded)
    if refusal is not None and locale != "fr":
        tried = f"{refusal['tried']} refused; " if refusal["tried"] else ""
        return f"access control: {tried}role {refusal['role']} required"
    return recorded
