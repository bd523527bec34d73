"""The audit log's codes in the auditor's words: actions, roles, outcomes and refusal purposes, in French and English.

An entry is sealed with codes (``request.read``, ``agent``, ``denied``): they
are what the hashes cover, and the raw entry stays one click away in the
console. People read words. The citizens' access log has its own,
second-person wording (:mod:`gateway.audit.labels`: « Consultation de votre
demande »); an auditor reads about anyone, so these words are neutral
(« Consultation d'une demande »). ``tests/test_auditor_words.py`` fails when
an action recorded anywhere in the gateway has no words here.

A plugin's own actions are ``<service>.<verb>``: they are told as a step of
that service, by its title, the verb in plain letters.
"""

from __future__ import annotations

import re

from gateway.services import Localized

ACTIONS: dict[str, Localized] = {
    # requests
    "request.create": Localized("Dépôt d'une demande", "Request filed"),
    "request.submit": Localized("Dépôt d'une demande (brouillon envoyé)", "Request submitted (draft sent)"),
    "request.read": Localized("Consultation d'une demande", "Request looked at"),
    "request.update": Localized("Traitement d'une demande", "Request processed"),
    "request.transition": Localized("Changement d'étape d'une demande", "Request moved to another step"),
    "request.withdraw": Localized("Retrait d'une demande par l'usager", "Request withdrawn by the citizen"),
    "request.share": Localized("Transmission d'une demande à une autre commune", "Request shared with another commune"),
    "request.linked-decision": Localized(
        "Décision d'une autre commune reportée sur la demande", "Another commune's decision recorded on the request"
    ),
    "request.delete": Localized("Suppression d'un brouillon", "Draft deleted"),
    "request.purge": Localized("Suppression d'une demande (fin de conservation)", "Request deleted (retention over)"),
    "request.list": Localized("Demande affichée dans la file d'attente", "Request shown in the queue"),
    "request.search": Localized(
        "Demande trouvée par une recherche dans la file d'attente", "Request found by a search in the queue"
    ),
    "request.export": Localized("Demande exportée de la file d'attente", "Request exported from the queue"),
    "queue.read": Localized("Consultation de la file d'attente", "Queue looked at"),
    "places.read": Localized("Consultation du tableau des places", "Places board looked at"),
    # issued documents
    "document.issue": Localized("Délivrance d'un document", "Document issued"),
    "document.revoke": Localized("Révocation d'un document délivré", "Issued document revoked"),
    "document.download": Localized("Téléchargement d'un document délivré", "Issued document downloaded"),
    "document.check": Localized("Vérification d'un document par un tiers", "Document checked by a third party"),
    # messages
    "outbox.sent": Localized("Envoi d'un message", "Message sent"),
    "outbox.failed": Localized("Échec de l'envoi d'un message", "Message could not be sent"),
    # citizens' accounts
    "account.create": Localized("Création d'un compte d'usager", "Citizen account created"),
    "account.verify": Localized("Confirmation d'une adresse électronique", "E-mail address confirmed"),
    "account.verify-resend": Localized("Nouvel envoi du lien de confirmation", "Confirmation link sent again"),
    "account.password-reset-request": Localized("Demande d'un nouveau mot de passe", "New password asked for"),
    "account.password-reset": Localized("Changement de mot de passe", "Password changed"),
    "account.read": Localized("Consultation de son journal d'accès par l'usager", "Citizen read their access log"),
    "account.export": Localized(
        "Téléchargement de ses données par l'usager (RGPD)", "Citizen downloaded their data (GDPR)"
    ),
    # sign-in
    "auth.login": Localized("Connexion", "Sign-in"),
    "auth.logout": Localized("Déconnexion", "Sign-out"),
    "auth.mfa": Localized("Second facteur d'authentification", "Second authentication factor"),
    "auth.lockout": Localized(
        "Blocage temporaire d'un compte après des essais infructueux",
        "Account locked for a while after failed attempts",
    ),
    # staff accounts and tokens
    "staff.create": Localized("Création d'un compte d'agent", "Staff account created"),
    "staff.grant": Localized("Attribution d'un rôle à un agent", "Role granted to a staff member"),
    "staff.revoke": Localized("Retrait d'un rôle à un agent", "Role withdrawn from a staff member"),
    "staff.disable": Localized("Désactivation d'un compte d'agent", "Staff account disabled"),
    "staff.enable": Localized("Réactivation d'un compte d'agent", "Staff account enabled again"),
    "staff.mfa-reset": Localized("Réinitialisation du second facteur d'un agent", "Staff second factor reset"),
    "staff.link-oidc": Localized(
        "Liaison d'un compte d'agent au fournisseur d'identité", "Staff account linked to the identity provider"
    ),
    "token.create": Localized("Création d'un jeton d'accès à l'API", "API access token created"),
    # access control
    "access.denied": Localized("Accès refusé", "Access refused"),
    "access.csrf-refused": Localized(
        "Formulaire refusé (protection contre la falsification de requête)", "Form refused (forgery protection)"
    ),
    # the audit log itself
    "audit.search": Localized("Recherche dans le journal d'audit", "Audit log searched"),
    "audit.resolve": Localized(
        "Recherche d'une personne par un auditeur (ses pseudonymes retrouvés)",
        "Auditor looked a person up (their pseudonyms found)",
    ),
    "audit.view": Localized("Consultation d'une entrée du journal d'audit", "Audit entry read"),
    "audit.export": Localized("Export du journal d'audit", "Audit log exported"),
    "audit.review": Localized("Lecture de la revue périodique du journal", "Periodic audit review read"),
    "audit.review-export": Localized("Export de la revue périodique du journal", "Periodic audit review exported"),
    "audit.review-mark": Localized(
        "Constat de la revue marqué examiné, avec une note", "Review finding marked reviewed, with a note"
    ),
    "audit.seal": Localized(
        "Scellement périodique du journal (sans activité)", "Periodic seal of the log (no activity)"
    ),
    "readiness.probe": Localized("Essai de disponibilité (jamais enregistré)", "Readiness probe (never recorded)"),
}

ROLES: dict[str, Localized] = {
    "anonymous": Localized("Personne non connectée", "Someone not signed in"),
    "citizen": Localized("Usager", "Citizen"),
    "agent": Localized("Agent", "Agent"),
    "supervisor": Localized("Responsable de service", "Supervisor"),
    "auditor": Localized("Auditeur", "Auditor"),
    "administrator": Localized("Administrateur", "Administrator"),
    "system": Localized("Système (automatique)", "System (automatic)"),
}

OUTCOMES: dict[str, Localized] = {
    "success": Localized("Réussi", "Succeeded"),
    "denied": Localized("Refusé", "Refused"),
    "failure": Localized("Échec", "Failed"),
}

#: how a refusal records its purpose (:func:`gateway.audit.builders.access_denied`)
_REFUSAL = re.compile(r"^contrôle d'accès : (?:(?P<tried>\S+) refusé ; )?rôle (?P<role>\S+) requis$")
_REFUSAL_WORDS = {
    "tried": Localized("contrôle d'accès : « {tried} » refusé ; rôle « {role} » requis",
                       "access control: “{tried}” refused; role “{role}” required"),
    "role": Localized("contrôle d'accès : rôle « {role} » requis", "access control: role “{role}” required"),
}  # fmt: skip


def _word(table: dict[str, Localized], code: str, locale: str) -> str | None:
    found = table.get(code)
    return found(locale) if found is not None else None


def role_words(role: str, locale: str) -> str:
    """« Agent », "Someone not signed in"; the code itself for a role this release does not know."""
    return _word(ROLES, role, locale) or role


def outcome_words(outcome: str, locale: str) -> str:
    return _word(OUTCOMES, outcome, locale) or outcome


def action_words(action: str, locale: str, service_title: str | None = None) -> str:
    """An action in words; a plugin's ``<service>.<verb>`` as a step of its service (« Démarche X : verb »)."""
    known = _word(ACTIONS, action, locale)
    if known is not None:
        return known
    domain, _, verb = action.partition(".")
    title = service_title or domain
    verb = verb.replace("-", " ").replace("_", " ")
    return f"Démarche « {title} » : {verb}" if locale == "fr" else f"Service “{title}”: {verb}"


def refusal_purpose(recorded: str, locale: str) -> str | None:
    """A refusal's recorded purpose with the action tried and the role required in words; None for other purposes."""
    found = _REFUSAL.match(recorded)
    if found is None:
        return None
    role = role_words(found["role"], locale)
    if found["tried"]:
        return _REFUSAL_WORDS["tried"](locale).format(tried=action_words(found["tried"], locale), role=role)
    return _REFUSAL_WORDS["role"](locale).format(role=role)
