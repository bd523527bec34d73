"""A small service for the requests API tests: a prefilled form, one required PDF, a workflow with a refusal reason.

The document is limited to 64 KB so that a "too large" upload stays cheap to
build, well under the gateway's body limit.
"""

from __future__ import annotations

from gateway import (
    Choice,
    CitizenIdentity,
    DocumentSpec,
    FormField,
    Localized,
    ServiceDefinition,
    State,
    Transition,
    Workflow,
    hookimpl,
)

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.0"

KEY = "api-essai"
MAX_BYTES = 64 * 1024

WORKFLOW = Workflow(
    states=(
        State("submitted", Localized("Déposée", "Submitted")),
        State("in_review", Localized("En cours d'examen", "In review")),
        State("accepted", Localized("Acceptée", "Accepted"), final=True),
        State("refused", Localized("Refusée", "Refused"), final=True),
    ),
    transitions=(
        Transition("start", Localized("Examiner", "Review"), ("submitted",), "in_review"),
        Transition(
            "accept",
            Localized("Accepter", "Accept"),
            ("in_review",),
            "accepted",
            notify=Localized("Votre demande est acceptée.", "Your request is accepted."),
        ),
        Transition(
            "refuse",
            Localized("Refuser", "Refuse"),
            ("submitted", "in_review"),
            "refused",
            comment_required=True,
            reasons=(
                Choice("incomplete", Localized("Dossier incomplet", "Incomplete file")),
                Choice("out-of-scope", Localized("Hors du champ", "Out of scope")),
            ),
            notify=Localized("Votre demande est refusée.", "Your request is refused."),
        ),
    ),
)

SERVICE = ServiceDefinition(
    key=KEY,
    title=Localized("Démarche d'essai", "Test service"),
    description=Localized("Une démarche pour les essais de l'API.", "A service for the API tests."),
    reference_prefix="ESS",
    purpose=Localized("Instruire la demande d'essai.", "To process the test request."),
    workflow=WORKFLOW,
    documents=(
        DocumentSpec(
            "justificatif",
            Localized("Justificatif", "Proof"),
            accept=("application/pdf",),
            max_bytes=MAX_BYTES,
        ),
    ),
)


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE]


@hookimpl
def guichet_service_form() -> list[FormField]:
    return [
        FormField("nom", Localized("Nom", "Name"), max_length=80),
        FormField("email", Localized("Courriel", "E-mail"), kind="email", max_length=254),
        FormField("motif", Localized("Motif", "Reason"), kind="textarea", max_length=500),
    ]


@hookimpl
def guichet_prefill_form(citizen: CitizenIdentity) -> dict[str, str]:
    name = " ".join(part for part in (citizen.given_name, citizen.family_name) if part)
    return {"nom": name, "email": citizen.email or ""}
