"""Messages to the citizen about their request, queued in the outbox with the action that causes them.

Written in the language the citizen used when filing. A message says what
happened and where to read more (their request's page, or for a request
filed without an account its follow link, :mod:`gateway.requests.follow`); it never repeats the form's content, so a
mailbox holds as little personal data as possible.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from gateway.communes import Commune
from gateway.models import ServiceRequest
from gateway.notify.outbox import Recipient, checked_recipient, enqueue, message_id_for, sender_domain
from gateway.requests.follow import follow_path
from gateway.services import Localized, ServiceDefinition
from gateway.settings import Settings

RECEIPT = Localized(
    "Votre demande a bien été enregistrée. Conservez son numéro de suivi : {reference}.",
    "Your request has been recorded. Keep its reference number: {reference}.",
)
RECEIPT_ASSISTED = Localized(
    "Votre demande a été déposée pour vous au guichet de la mairie. Conservez son numéro de suivi : {reference}.",
    "Your request was filed for you at the town hall counter. Keep its reference number: {reference}.",
)
WITHDRAWN = Localized(
    "Vous avez retiré votre demande. Elle ne sera pas traitée.",
    "You withdrew your request. It will not be processed.",
)
NEW_MESSAGE = Localized(
    "La mairie vous a écrit au sujet de votre demande. Connectez-vous pour lire son message.",
    "The town hall has written to you about your request. Sign in to read its message.",
)
CORRECTION_ASKED = Localized(
    "La mairie a besoin d'un complément pour traiter votre demande (une correction ou un document). "
    "Connectez-vous pour voir ce qui est demandé.",
    "The town hall needs something more to process your request (a correction or a document). "
    "Sign in to see what is asked.",
)
_SUBJECT = Localized("{commune} — votre demande {reference}", "{commune} — your request {reference}")
_BODY = Localized(
    "Bonjour,\n\n{message}\n\nDémarche : {service}\nNuméro de suivi : {reference}\nMairie de {commune}\n{extra}"
    "\nSuivre votre demande : {link}\n\nCe message est envoyé automatiquement, merci de ne pas y répondre.\n",
    "Hello,\n\n{message}\n\nService: {service}\nReference: {reference}\n{commune} town hall\n{extra}"
    "\nFollow your request: {link}\n\nThis message is sent automatically; please do not reply to it.\n",
)
_COMMENT = Localized("\nPrécision de la mairie :\n{comment}\n", "\nNote from the town hall:\n{comment}\n")


@dataclass(frozen=True)
class Envelope:
    """A message's checked address and Message-ID, made before its transaction (no lock needed to make them)."""

    address: str
    recipient: Recipient
    message_id: str


def envelope_for(settings: Settings, address: str | None) -> Envelope | None:
    """The envelope of a message to ``address``; None when there is none, or it fails the check.

    A failing address is left to :func:`notify_citizen`, which checks it again in
    the transaction and refuses it there, as it would without an envelope.
    """
    if not address:
        return None
    try:
        recipient = checked_recipient(address)
    except ValueError:
        return None
    return Envelope(address, recipient, message_id_for(settings.smtp.sender))


def notify_citizen(
    session: Session,
    settings: Settings,
    commune: Commune,
    service: ServiceDefinition,
    row: ServiceRequest,
    *,
    cause: str,
    message: Localized,
    comment: str | None = None,
    new_request: bool = False,
    envelope: Envelope | None = None,
) -> None:
    """Queue one message about ``row`` (nothing when no address is known). ``cause`` makes it idempotent.

    ``new_request``: ``row`` was created in this transaction, so no message about it can exist yet.
    ``envelope``: made for ``row.notify_email`` before the transaction (:func:`envelope_for`);
    ignored if the address changed since.
    """
    if not row.notify_email:
        return
    if envelope is not None and envelope.address != row.notify_email:
        envelope = None
    locale = row.locale if row.locale in ("fr", "en") else "fr"
    reference = row.reference or ""
    # an account's request is on its pages; one filed without an account is followed by its signed link
    path = (
        f"/mes-demandes/{row.public_id}"
        if row.citizen_id is not None
        else follow_path(settings.secret_key, row.public_id)
    )
    link = settings.gateway.public_base_url.rstrip("/") + path
    extra = _COMMENT(locale).format(comment=comment) if comment else ""
    body = _BODY(locale).format(
        message=message(locale).format(reference=reference),
        service=service.title(locale),
        reference=reference,
        commune=commune.name,
        extra=extra,
        link=link,
    )
    enqueue(
        session,
        kind=f"request-{cause.split(':')[0]}"[:60],
        dedupe_key=f"request:{row.public_id}:{cause}"[:120],
        recipient=envelope.recipient if envelope is not None else row.notify_email,
        subject=_SUBJECT(locale).format(commune=commune.name, reference=reference)[:200],
        body=body,
        locale=locale,
        commune=commune.slug,
        domain=None if envelope is not None else sender_domain(settings.smtp.sender),
        message_id=envelope.message_id if envelope is not None else None,
        new_cause=new_request,
    )
