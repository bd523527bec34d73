"""The rules of « Écrire à la mairie »: its form, its per-commune settings, its checks.

The plugin holds no data: the core stores the message and hands this plugin
a :class:`~gateway.request_handle.RequestHandle` when it is filed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field, field_validator

from gateway import (
    Choice,
    Commune,
    FieldError,
    FormField,
    Localized,
    RequestHandle,
    ServiceDefinition,
    ServiceSettings,
    State,
    Transition,
    Workflow,
    hookimpl,
)

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.0"

KEY = "contact"

#: The subjects a commune may offer, with the wording citizens see.
TOPICS: dict[str, Localized] = {
    "voirie": Localized("Voirie, éclairage, stationnement", "Roads, street lights, parking"),
    "proprete": Localized("Propreté, déchets, espaces verts", "Cleanliness, waste, green spaces"),
    "ecoles": Localized("Écoles, cantine, périscolaire", "Schools, canteen, after-school care"),
    "etat-civil": Localized("État civil, élections, cimetière", "Civil status, elections, cemetery"),
    "urbanisme": Localized("Urbanisme, travaux", "Planning permission, building works"),
    "autre": Localized("Autre sujet", "Another subject"),
}

#: the subjects about a place in the commune: the form asks where (an address, optional)
PLACED_TOPICS = ("voirie", "proprete")

TopicKey = Literal["voirie", "proprete", "ecoles", "etat-civil", "urbanisme", "autre"]
MESSAGE_MAX = 5000


class ContactSettings(ServiceSettings):
    """What a commune may adjust in ``[services.contact]``."""

    topics: tuple[TopicKey, ...] = ("autre",)
    reply_within_days: int = Field(default=15, ge=1, le=60)
    ask_phone: bool = False

    @field_validator("topics")
    @classmethod
    def _distinct_and_not_empty(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("offer at least one topic")
        if len(set(value)) != len(value):
            raise ValueError("a topic is listed twice")
        return value


#: A message is answered (the answer goes to the sender) or closed without an answer (spam, duplicate).
WORKFLOW = Workflow(
    states=(
        State("submitted", Localized("Reçu", "Received")),
        State("answered", Localized("Répondu", "Answered"), final=True),
        State("closed", Localized("Classé sans suite", "Closed without reply"), final=True),
    ),
    transitions=(
        Transition(
            "answer",
            Localized("Répondre", "Answer"),
            ("submitted",),
            "answered",
            comment_required=True,
            notify=Localized("La mairie a répondu à votre message.", "The town hall has answered your message."),
        ),
        Transition(
            "close",
            Localized("Classer sans suite", "Close without reply"),
            ("submitted",),
            "closed",
            reasons=(
                Choice("duplicate", Localized("Message en double", "Duplicate message")),
                Choice("spam", Localized("Message indésirable", "Unwanted message")),
                Choice("elsewhere", Localized("Relève d'un autre organisme", "For another body")),
            ),
        ),
    ),
)

SERVICE = ServiceDefinition(
    key=KEY,
    title=Localized("Écrire à la mairie", "Write to the town hall"),
    description=Localized(
        "Posez une question ou signalez un problème à votre mairie. Elle vous répond par courriel.",
        "Ask a question or report a problem to your town hall. It answers by e-mail.",
    ),
    reference_prefix="MSG",
    purpose=Localized(
        "Répondre à votre message (mission de service public de la commune). "
        "Vos coordonnées ne servent qu'à vous répondre.",
        "To answer your message (the commune's public-service mission). Your details are used only to reply to you.",
    ),
    settings=ContactSettings,
    retention_days=365,
    # no identity claim beyond the deployment's base ones (name, e-mail): a message needs no more
    identity_claims=(),
    subject_field="email",
    workflow=WORKFLOW,
    legal_basis=Localized(
        "Mission d'intérêt public de la commune (RGPD, article 6-1-e).",
        "The commune's public-interest mission (GDPR, article 6(1)(e)).",
    ),
    # Anyone may write without an account; a signed-in citizen also follows the answer in their space.
    requires_sign_in=False,
    # 2: the subject became radio buttons (same stored values) and a place (an address) is asked for some subjects
    form_version=2,
)


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE]


@hookimpl
def guichet_service_form(service: ServiceDefinition, commune: Commune, settings: ContactSettings) -> list[FormField]:
    fields = [
        FormField(
            "name", Localized("Vos prénom et nom", "Your first and last name"), autocomplete="name", max_length=120
        ),
        FormField(
            "email",
            Localized("Votre adresse électronique", "Your e-mail address"),
            kind="email",
            autocomplete="email",
            max_length=254,
            help=Localized("La mairie vous répondra à cette adresse.", "The town hall will reply to this address."),
        ),
    ]
    if settings.ask_phone:
        fields.append(
            FormField(
                "phone",
                Localized("Votre numéro de téléphone", "Your phone number"),
                kind="tel",
                required=False,
                autocomplete="tel",
                max_length=20,
                help=Localized("Si vous préférez être rappelé.", "If you would rather be called back."),
            )
        )
    fields += [
        FormField(
            "topic",
            Localized("Sujet", "Subject"),
            kind="radio",
            choices=tuple(Choice(key, TOPICS[key]) for key in settings.topics),
        ),
        FormField(
            "place",
            Localized("Adresse concernée", "Address concerned"),
            kind="address",
            required=False,
            show_if=("topic", PLACED_TOPICS),
            help=Localized(
                "Pour un problème de voirie ou de propreté : où se trouve-t-il ?",
                "For a problem with roads or cleanliness: where is it?",
            ),
        ),
        FormField(
            "message",
            Localized("Votre message", "Your message"),
            kind="textarea",
            max_length=MESSAGE_MAX,
            help=Localized(
                f"La mairie de {commune.name} répond en {settings.reply_within_days} jours ouvrés au plus. "
                "N'y joignez pas d'informations médicales ou bancaires.",
                f"{commune.name} town hall answers within {settings.reply_within_days} working days. "
                "Do not include medical or bank details.",
            ),
        ),
    ]
    return fields


@hookimpl
def guichet_validate_request(
    service: ServiceDefinition, settings: ContactSettings, data: Mapping[str, str]
) -> list[FieldError]:
    message = data.get("message", "")
    if message and len(message.split()) < 3:
        return [
            FieldError(
                "message",
                Localized(
                    "Votre message est trop court : décrivez votre demande en quelques mots.",
                    "Your message is too short: describe your request in a few words.",
                ),
            )
        ]
    return []


@hookimpl
def guichet_request_submitted(settings: ContactSettings, request: RequestHandle) -> None:
    """Queue summary for the agents: the subject, never the message itself."""
    topic = request.data.get("topic", "autre")
    request.summary = TOPICS[topic].fr if topic in TOPICS else None
