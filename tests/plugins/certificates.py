"""A service that issues a document on a transition, for the issued-documents tests (tests/test_issued_documents.py).

``attestation`` (« Attestation d'inscription ») records a child, a school and
a level. Accepting it issues a certificate whose confirmable lines are the
child's first name and initial, the school, the level and the year (the
family's name and the birth date are printed, never confirmed); cancelling an
accepted one revokes it. It is the example of docs/plugin_api.md.
"""

from __future__ import annotations

from gateway import (
    DocumentContent,
    DocumentLine,
    FormField,
    Localized,
    RequestHandle,
    ServiceDefinition,
    State,
    Transition,
    Workflow,
    hookimpl,
)

GUICHET_PLUGIN_API = "1.1"

#: a registration at this level makes the plugin fail after it issued the certificate
CRASHING_LEVEL = "crash"

WORKFLOW = Workflow(
    states=(
        State("submitted", Localized("Déposée", "Submitted")),
        State("accepted", Localized("Acceptée", "Accepted")),
        State("closed", Localized("Close", "Closed"), final=True),
        State("cancelled", Localized("Annulée", "Cancelled"), final=True),
    ),
    transitions=(
        Transition("accept", Localized("Accepter", "Accept"), ("submitted",), "accepted"),
        Transition("cancel", Localized("Annuler l'inscription", "Cancel the registration"), ("accepted",), "cancelled"),
        Transition("close", Localized("Clore", "Close"), ("accepted",), "closed"),
    ),
)

ATTESTATION = ServiceDefinition(
    key="attestation",
    title=Localized("Attestation d'inscription", "Registration certificate"),
    description=Localized("Inscrivez un enfant et recevez l'attestation.", "Register a child, get the certificate."),
    reference_prefix="ATT",
    purpose=Localized("Inscrire un enfant à l'école.", "To register a child at school."),
    workflow=WORKFLOW,
)


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [ATTESTATION]


@hookimpl
def guichet_service_form(service: ServiceDefinition) -> list[FormField]:
    return [
        FormField("first_name", Localized("Prénom de l'enfant", "Child's first name")),
        FormField("last_name", Localized("Nom de l'enfant", "Child's last name")),
        FormField("school", Localized("École", "School")),
        FormField("level", Localized("Niveau", "Level")),
    ]


def certificate(request: RequestHandle) -> DocumentContent:
    """The certificate of an accepted registration: what it prints, and the four facts a school may confirm."""
    data = request.data
    return DocumentContent(
        kind="certificate",
        title=Localized("Certificat d'inscription scolaire", "School registration certificate"),
        intro=Localized(
            "Le maire certifie que l'enfant ci-dessous est inscrit.",
            "The mayor certifies that the child below is registered.",
        ),
        lines=(
            DocumentLine(
                "child",
                Localized("Enfant", "Child"),
                f"{data['first_name']} {data['last_name'][:1]}.",
                confirmable=True,
            ),
            DocumentLine("family_name", Localized("Nom de famille", "Family name"), data["last_name"]),
            DocumentLine("school", Localized("École", "School"), data["school"], confirmable=True),
            DocumentLine("level", Localized("Niveau", "Level"), data["level"], confirmable=True),
            DocumentLine("year", Localized("Année scolaire", "School year"), "2026-2027", confirmable=True),
        ),
    )


@hookimpl
def guichet_request_transition(request: RequestHandle, transition: Transition) -> None:
    if transition.name == "accept":
        issued = request.issue_document(certificate(request))
        request.summary = f"Certificat {issued.number}"
        if request.data["level"] == CRASHING_LEVEL:
            raise RuntimeError("the plugin fails after issuing: nothing must be kept")
    elif transition.name == "cancel":
        request.revoke_documents("inscription annulée")
