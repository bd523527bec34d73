"""The civil-status request's workflow: states, agents' transitions and what they tell the citizen.

A transition that hands the record over (by post, at the counter) applies only
to the delivery the requester chose; :func:`refusal_for` is the second lock the
plugin's transition hook puts on that, and :func:`queue_summary` the line agents
read in their queue.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway import Choice, Localized, State, Transition, Workflow
from guichet_etat_civil.entitlement import FORM_LABELS, KIND_LABELS

WORKFLOW = Workflow(
    states=(
        State("submitted", Localized("Déposée", "Submitted")),
        State("in_progress", Localized("En cours de traitement", "In progress")),
        State("sent", Localized("Envoyé par courrier", "Sent by post"), final=True),
        State("ready", Localized("Prêt à retirer en mairie", "Ready to collect at the town hall")),
        State("collected", Localized("Retiré", "Collected"), final=True),
        State("refused", Localized("Refusée", "Refused"), final=True),
    ),
    transitions=(
        Transition(
            "start",
            Localized("Prendre en charge", "Start processing"),
            ("submitted",),
            "in_progress",
            notify=Localized(
                "Votre demande est en cours de traitement : un agent recherche l'acte dans les registres.",
                "Your request is being processed: an officer is looking for the record in the registers.",
            ),
            assigns=True,
        ),
        Transition(
            "send",
            Localized("Envoyé par courrier", "Sent by post"),
            ("in_progress",),
            "sent",
            notify=Localized(
                "Votre acte vous a été envoyé par courrier.", "Your record has been sent to you by post."
            ),
            only_if=("delivery", ("post",)),
        ),
        Transition(
            "ready",
            Localized("Prêt à retirer en mairie", "Ready to collect at the town hall"),
            ("in_progress",),
            "ready",
            notify=Localized(
                "Votre acte est prêt. Retirez-le à l'accueil de la mairie en présentant une pièce d'identité ; "
                "les horaires d'ouverture sont sur la page de la commune.",
                "Your record is ready. Collect it at the town hall's counter with an identity document; "
                "the opening hours are on the commune's page.",
            ),
            only_if=("delivery", ("counter",)),
        ),
        Transition(
            "collect",
            Localized("Retiré", "Collected"),
            ("ready",),
            "collected",
            notify=Localized(
                "Vous avez retiré votre acte à la mairie : votre demande est terminée.",
                "You collected your record at the town hall: your request is complete.",
            ),
        ),
        Transition(
            "refuse",
            Localized("Refuser", "Refuse"),
            ("submitted", "in_progress"),
            "refused",
            notify=Localized(
                "Votre demande n'a pas pu aboutir. Le motif est indiqué ci-dessous.",
                "Your request could not be met. The reason is given below.",
            ),
            reasons=(
                Choice("not-found", Localized("Acte introuvable dans nos registres", "Record not in our registers")),
                Choice("not-entitled", Localized("Demandeur non habilité", "Requester not entitled")),
                Choice("incomplete", Localized("Informations incomplètes ou inexactes", "Incomplete information")),
                Choice("outside", Localized("Événement hors de la commune", "Event outside the commune")),
                Choice("other", Localized("Autre motif", "Other reason")),
            ),
            comment_required=True,
        ),
    ),
)  # fmt: skip

_SUMMARY_DELIVERY = {"post": "courrier", "counter": "retrait en mairie"}


def queue_summary(data: Mapping[str, str]) -> str:
    """Kind, document, copies and delivery, never a name or a date."""
    kind = data.get("kind", "")
    form = "full-copy" if kind == "death" else data.get("form", "")
    parts = [
        KIND_LABELS[kind].fr if kind in KIND_LABELS else "?",
        FORM_LABELS[form].fr.lower() if form in FORM_LABELS else "?",
        f"{data.get('copies', '?')} ex." if data.get("copies", "").isdigit() else "? ex.",
        _SUMMARY_DELIVERY.get(data.get("delivery", ""), "?"),
    ]
    return " · ".join(parts)


def refusal_for(data: Mapping[str, str], transition: Transition) -> Localized | None:
    """Why ``transition`` does not fit the request (never "sent by post" for a counter request, nor the reverse)."""
    if transition.applies(data):
        return None
    return Localized(
        "Cette étape ne correspond pas au mode de remise choisi par le demandeur.",
        "This step does not match the delivery the requester chose.",
    )
