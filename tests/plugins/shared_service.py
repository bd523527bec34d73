"""A service shared with another member commune, for the tests of linked requests (tests/test_linked_requests.py).

``accueil`` (« Accueil dans une autre commune ») asks for a place in another
member commune's facility: the form holds what the receiving commune needs
(the level, the reason's category) and what it must never see (the child's
name, the family's address, free text, the identity document). The family
chooses whether the proof document is shared. The receiving commune decides
on the linked request (place available or not, with a reason); the home
commune may accept only once the receiving one offered a place, which the
plugin reads through ``request.linked``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from gateway import DEFAULT_WORKFLOW as HOME_WORKFLOW
from gateway import (
    Choice,
    DocumentSpec,
    FormField,
    Localized,
    RequestHandle,
    ServiceDefinition,
    SharedRequest,
    State,
    Transition,
    TransitionRefused,
    Workflow,
    hookimpl,
)

#: the plugin API version this plugin is written for: linked requests came in 1.1
GUICHET_PLUGIN_API = "1.1"

KEY = "accueil"
#: the fields the receiving commune sees, and nothing else of the form
DISCLOSED = ("level", "reason")
#: a receiving commune typed as this makes the plugin name a field its form lacks (a plugin's mistake)
MISUSED = "erreur-du-plugin"
NO_PLACE_YET = Localized(
    "La commune d'accueil n'a pas encore proposé de place.", "The receiving commune has not offered a place yet."
)

LINKED_WORKFLOW = Workflow(
    states=(
        State("received", Localized("Reçue", "Received")),
        State("place-available", Localized("Place disponible", "Place available"), final=True),
        State("no-place", Localized("Pas de place", "No place"), final=True),
    ),
    transitions=(
        Transition("offer", Localized("Proposer une place", "Offer a place"), ("received",), "place-available"),
        Transition(
            "decline",
            Localized("Pas de place", "No place"),
            ("received",),
            "no-place",
            reasons=(
                Choice("full", Localized("Niveau complet", "Level full")),
                Choice("other", Localized("Autre motif", "Other reason")),
            ),
        ),
    ),
    initial="received",
)

SERVICE = ServiceDefinition(
    key=KEY,
    title=Localized("Accueil dans une autre commune", "Place in another commune"),
    description=Localized("Demander une place dans une autre commune du syndicat.", "Ask another commune for a place."),
    reference_prefix="ACC",
    purpose=Localized("Instruction des demandes d'accueil entre communes", "Processing inter-commune placements"),
    workflow=HOME_WORKFLOW,
    linked_workflow=LINKED_WORKFLOW,
    documents=(
        DocumentSpec("identity", Localized("Pièce d'identité", "Identity document"), required=False),
        DocumentSpec("proof", Localized("Justificatif du motif", "Proof of the reason"), required=False),
    ),
)

FORM = (
    FormField("child_name", Localized("Nom de l'enfant", "Child's name")),
    FormField("address", Localized("Adresse de la famille", "Family address")),
    FormField(
        "level",
        Localized("Niveau", "Level"),
        kind="select",
        choices=(Choice("cp", Localized("CP")), Choice("ce1", Localized("CE1"))),
    ),
    FormField(
        "reason",
        Localized("Motif", "Reason"),
        kind="select",
        choices=(
            Choice("sibling", Localized("Fratrie", "Sibling")),
            Choice("medical", Localized("Médical", "Medical")),
        ),
    ),
    FormField("details", Localized("Précisions", "Details"), kind="textarea", required=False),
    FormField("other_commune", Localized("Commune d'accueil", "Receiving commune"), required=False),
    FormField(
        "share_proof",
        Localized("Transmettre le justificatif", "Share the proof"),
        kind="select",
        required=False,
        choices=(Choice("yes", Localized("Oui", "Yes")), Choice("no", Localized("Non", "No"))),
    ),
)


@hookimpl
def guichet_services() -> Sequence[ServiceDefinition]:
    return [SERVICE]


@hookimpl
def guichet_service_form(service: ServiceDefinition) -> Sequence[FormField] | None:
    return FORM if service.key == KEY else None


@hookimpl
def guichet_request_shares(data: Mapping[str, str]) -> Sequence[SharedRequest] | None:
    other = data.get("other_commune", "")
    if not other:
        return None
    if other == MISUSED:
        return [SharedRequest("givors", fields=("level", "no-such-field"), field="other_commune")]
    documents = ("proof",) if data.get("share_proof") == "yes" else ()
    return [
        SharedRequest(
            other, fields=DISCLOSED, documents=documents, summary="Accueil hors commune", field="other_commune"
        )
    ]


@hookimpl
def guichet_request_transition(request: RequestHandle, transition: Transition) -> None:
    linked = request.linked
    if transition.name == "accept" and linked is not None and linked.role == "home":
        if linked.status != "place-available":
            raise TransitionRefused(NO_PLACE_YET)
        request.record_event("placed")
