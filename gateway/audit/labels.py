"""Plain words for audit actions, as citizens read them in their access log."""

from __future__ import annotations

from gateway.services import Localized

ACTIONS: dict[str, Localized] = {
    "request.create": Localized("Dépôt de votre demande", "Your request was filed"),
    "request.read": Localized("Consultation de votre demande", "Your request was looked at"),
    "request.update": Localized("Traitement de votre demande", "Your request was processed"),
    "request.export": Localized("Exportée de la file d'attente", "Exported from the queue"),
    "request.list": Localized("Listée dans la file d'attente", "Listed in the queue"),
    "request.search": Localized("Trouvée par une recherche dans la file d'attente", "Found by a search in the queue"),
    "request.submit": Localized("Dépôt de votre demande", "Your request was submitted"),
    "request.transition": Localized(
        "Changement d'étape de votre demande (décision ou suite du traitement)",
        "Your request moved on (a decision or the next step)",
    ),
    "request.withdraw": Localized("Retrait de votre demande", "Your request was withdrawn"),
    "request.share": Localized(
        "Transmission de votre demande à une autre commune (les seules informations nécessaires)",
        "Your request was shared with another commune (only what it needs)",
    ),
    "request.linked-decision": Localized(
        "Décision de l'autre commune reportée sur votre demande", "The other commune's decision was recorded"
    ),
    "request.delete": Localized("Suppression de votre brouillon de demande", "Your draft request was deleted"),
    "request.purge": Localized(
        "Suppression de votre demande (fin de conservation)", "Your request was deleted (retention)"
    ),
    "outbox.sent": Localized("Envoi d'un message à votre adresse", "A message was sent to you"),
    "outbox.failed": Localized("Échec de l'envoi d'un message", "A message to you could not be sent"),
    "audit.search": Localized(
        "Recherche dans le journal d'audit vous concernant", "The audit log was searched about you"
    ),
    "audit.view": Localized(
        "Consultation d'une entrée du journal vous concernant", "An audit entry about you was read"
    ),
    "audit.export": Localized("Export du journal d'audit vous concernant", "The audit log about you was exported"),
    "audit.resolve": Localized(
        "Recherche de vos identifiants par un auditeur, pour retrouver ce qui vous concerne",
        "An auditor looked up your identifiers to find what concerns you",
    ),
    "account.read": Localized("Consultation de votre journal d'accès", "You looked at your access log"),
    "account.export": Localized("Téléchargement de toutes vos données (RGPD)", "You downloaded all your data (GDPR)"),
    "auth.logout": Localized("Déconnexion", "Sign-out"),
    "auth.login": Localized("Connexion à votre compte", "Sign-in to your account"),
    "auth.lockout": Localized(
        "Blocage temporaire de votre compte après des essais infructueux",
        "Your account was locked for a while after failed attempts",
    ),
    "account.create": Localized("Création d'un compte avec votre adresse", "An account was created with your address"),
    "account.verify": Localized("Confirmation de votre adresse électronique", "Your e-mail address was confirmed"),
    "account.verify-resend": Localized("Nouvel envoi du lien de confirmation", "The confirmation link was sent again"),
    "account.password-reset-request": Localized("Demande d'un nouveau mot de passe", "A new password was asked for"),
    "account.password-reset": Localized("Changement de votre mot de passe", "Your password was changed"),
    "document.issue": Localized("Délivrance d'un document (certificat)", "A document (certificate) was issued"),
    "document.revoke": Localized("Révocation d'un document délivré", "An issued document was revoked"),
    "document.download": Localized("Téléchargement d'un document délivré", "An issued document was downloaded"),
    "document.check": Localized(
        "Vérification de votre document par un tiers (certificat vérifié)",
        "Your document was checked by someone (document checked)",
    ),
    "access.denied": Localized("Tentative d'accès à votre demande, refusée", "A refused attempt to reach your request"),
}

#: who tried, when a citizen other than the reader was refused on the reader's request
SOMEONE_ELSE = Localized("une autre personne (connectée)", "someone else (signed in)")

ROLES: dict[str, Localized] = {
    "anonymous": Localized("vous-même (sans connexion)", "you (not signed in)"),
    "citizen": Localized("vous-même", "you"),
    "agent": Localized("un agent", "an agent"),
    "supervisor": Localized("un responsable", "a supervisor"),
    "auditor": Localized("un auditeur", "an auditor"),
    "administrator": Localized("un administrateur", "an administrator"),
    "system": Localized("le système (automatique)", "the system (automatic)"),
}


#: a list that showed the citizen's request, in words naming the commune's queue and who looked
LISTINGS: dict[str, Localized] = {
    "request.list": Localized(
        "Listée dans la file d'attente de {commune} par {who}", "Listed in the {commune} queue by {who}"
    ),
    "request.search": Localized(
        "Trouvée par une recherche dans la file d'attente de {commune} par {who}",
        "Found by a search in the {commune} queue by {who}",
    ),
    "request.export": Localized(
        "Exportée de la file d'attente de {commune} par {who}", "Exported from the {commune} queue by {who}"
    ),
}


def listing_label(action: str, commune: str, role: str, locale: str) -> str | None:
    """How a listing reads in the access log ("Listed in the Vénissieux queue by an agent"); None for other actions."""
    template = LISTINGS.get(action)
    if template is None:
        return None
    words = ROLES.get(role)
    return template(locale).format(commune=commune, who=words(locale) if words else role)


def action_label(action: str) -> Localized:
    if action in ACTIONS:
        return ACTIONS[action]
    return Localized(f"Traitement par la démarche ({action})", f"Processing by the service ({action})")
