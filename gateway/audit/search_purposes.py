"""Why an auditor reads the log: the purposes they choose from, recorded with each search they run.

An auditor who looks a person up states why, and the reason is sealed with
the record of the search (and shown to the person in their access log). The
reasons are a closed list, never free text: the log has no free-text field,
so nothing typed — a name, an address — can slip into it. The French text is
what is recorded; :mod:`gateway.audit.purposes` shows it in the reader's
language.
"""

from __future__ import annotations

from gateway.services import Localized

#: the routine reading of the log, what a search without a stated purpose records
ROUTINE = "controle"

#: the purposes an auditor may state, by the key the console's form and the API send
AUDIT_PURPOSES: dict[str, Localized] = {
    ROUTINE: Localized("contrôle de la traçabilité des accès aux données personnelles",
                       "auditing the accesses to personal data"),
    "droits": Localized("réponse à une demande d'exercice de ses droits par la personne concernée (RGPD)",
                        "answering a data subject's request to exercise their rights (GDPR)"),
    "reclamation": Localized("examen d'une réclamation d'un usager", "looking into a citizen's complaint"),
    "incident": Localized("enquête sur un incident de sécurité ou une violation de données",
                          "investigating a security incident or a data breach"),
    "requisition": Localized("réponse à une réquisition judiciaire", "answering a judicial requisition"),
}  # fmt: skip
