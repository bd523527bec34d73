"""Two small services for the back-office page tests.

``badge`` (« Badge de déchetterie ») takes a document and has a workflow with
a step that tells the citizen nothing, a decision that does, and a refusal
that needs a reason and a comment. ``rappel`` (« Être rappelé par la
mairie ») has no document and no e-mail field, so it can be filed at the
counter and shows whether a receipt goes to the e-mail the agent typed.
"""

from __future__ import annotations

from gateway import (
    Choice,
    DocumentSpec,
    FormField,
    Localized,
    RequestHandle,
    ServiceDefinition,
    State,
    Transition,
    Workflow,
    hookimpl,
)

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.2"

BADGE_WORKFLOW = Workflow(
    states=(
        State("submitted", Localized("Déposée", "Submitted")),
        State("review", Localized("En instruction", "Under review")),
        State("granted", Localized("Accordée", "Granted"), final=True),
        State("refused", Localized("Refusée", "Refused"), final=True),
    ),
    transitions=(
        Transition(
            "examine", Localized("Mettre en instruction", "Start the review"), ("submitted",), "review", assigns=True
        ),
        Transition(
            "grant",
            Localized("Accorder le badge", "Grant the badge"),
            ("review",),
            "granted",
            notify=Localized("Votre badge est accordé.", "Your badge is granted."),
        ),
        Transition(
            "refuse",
            Localized("Refuser", "Refuse"),
            ("submitted", "review"),
            "refused",
            notify=Localized("Votre demande de badge est refusée.", "Your badge request is refused."),
            reasons=(
                Choice("not-resident", Localized("Hors de la commune", "Not a resident")),
                Choice("incomplete", Localized("Dossier incomplet", "Incomplete file")),
            ),
            comment_required=True,
        ),
    ),
)

BADGE = ServiceDefinition(
    key="badge",
    title=Localized("Badge de déchetterie", "Recycling centre badge"),
    description=Localized("Demandez le badge d'accès à la déchetterie.", "Ask for the recycling centre badge."),
    reference_prefix="BDG",
    purpose=Localized("Délivrer le badge d'accès à la déchetterie.", "To issue the recycling centre badge."),
    workflow=BADGE_WORKFLOW,
    documents=(DocumentSpec("proof", Localized("Justificatif de domicile", "Proof of address")),),
)

CALLBACK = ServiceDefinition(
    key="rappel",
    title=Localized("Être rappelé par la mairie", "Be called back by the town hall"),
    description=Localized("Laissez votre numéro, la mairie vous rappelle.", "Leave your number, we call you back."),
    reference_prefix="RAP",
    purpose=Localized("Rappeler la personne qui l'a demandé.", "To call back the person who asked."),
    requires_sign_in=False,
)


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [BADGE, CALLBACK]


@hookimpl
def guichet_service_form(service: ServiceDefinition) -> list[FormField]:
    if service.key == BADGE.key:
        return [
            FormField("name", Localized("Nom", "Name")),
            FormField(
                "vehicle",
                Localized("Véhicule", "Vehicle"),
                kind="select",
                choices=(
                    Choice("car", Localized("Voiture", "Car")),
                    Choice("van", Localized("Camionnette", "Van")),
                ),
            ),
        ]
    return [
        FormField("name", Localized("Nom", "Name")),
        FormField("phone", Localized("Téléphone", "Phone"), kind="tel", max_length=20),
    ]


@hookimpl
def guichet_request_submitted(service: ServiceDefinition, request: RequestHandle) -> None:
    request.summary = f"{service.title.fr} : {request.data.get('name', '')}"[:200]
