"""A service with documents, a conditional field and a workflow, for the citizen request page tests.

« Attestation (essai) »: a name, a delivery choice, a postal address asked
only for delivery by post; an identity document (small size limit, so the
"too large" case needs no big file) and a proof of address (PDF only) asked
only for delivery by post.
"""

from __future__ import annotations

from gateway import (
    Choice,
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

KEY = "attestation"
IDENTITY_MAX_BYTES = 4096

WORKFLOW = Workflow(
    states=(
        State("submitted", Localized("Déposée", "Submitted")),
        State("in_progress", Localized("En cours d'instruction", "Being processed")),
        State("accepted", Localized("Attestation délivrée", "Certificate issued"), final=True),
        State("refused", Localized("Refusée", "Refused"), final=True),
    ),
    transitions=(
        Transition("start", Localized("Instruire", "Process"), ("submitted",), "in_progress"),
        Transition(
            "accept",
            Localized("Délivrer", "Issue"),
            ("submitted", "in_progress"),
            "accepted",
            notify=Localized("Votre attestation est prête.", "Your certificate is ready."),
        ),
        Transition(
            "refuse",
            Localized("Refuser", "Refuse"),
            ("submitted", "in_progress"),
            "refused",
            reasons=(Choice("not-resident", Localized("Vous n'habitez pas la commune", "You do not live here")),),
            notify=Localized("Votre demande a été refusée.", "Your request was refused."),
        ),
    ),
)

SERVICE = ServiceDefinition(
    key=KEY,
    title=Localized("Attestation (essai)", "Certificate (test)"),
    description=Localized("Demandez une attestation de la mairie.", "Ask the town hall for a certificate."),
    reference_prefix="ATT",
    purpose=Localized("Délivrer l'attestation demandée.", "To issue the certificate asked for."),
    workflow=WORKFLOW,
    documents=(
        DocumentSpec(
            "identity",
            Localized("Pièce d'identité", "Identity document"),
            max_bytes=IDENTITY_MAX_BYTES,
        ),
        DocumentSpec(
            "proof",
            Localized("Justificatif de domicile", "Proof of address"),
            accept=("application/pdf",),
            show_if=("delivery", ("post",)),
        ),
    ),
    legal_basis=Localized("Code de l'essai, article 1.", "Test code, section 1."),
    eligibility=Localized("Réservé aux habitants de la commune.", "For residents of the commune only."),
)


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [SERVICE]


@hookimpl
def guichet_service_form() -> list[FormField]:
    return [
        FormField("full_name", Localized("Vos prénom et nom", "Your name"), max_length=120),
        FormField(
            "delivery",
            Localized("Retrait", "Delivery"),
            kind="select",
            choices=(
                Choice("counter", Localized("Au guichet de la mairie", "At the town hall counter")),
                Choice("post", Localized("Par courrier", "By post")),
            ),
        ),
        FormField(
            "address",
            Localized("Adresse postale", "Postal address"),
            kind="textarea",
            max_length=300,
            show_if=("delivery", ("post",)),
        ),
    ]


@hookimpl
def guichet_prefill_form() -> dict[str, str]:
    return {"full_name": "Camille Exemple"}
