"""Two services for the service-layer tests of requests (tests/test_request_*.py).

``vignette`` (« Vignette de stationnement résident ») uses every part of a
service definition the request layer reads: a conditional field (the postal
address, only when the sticker is mailed), a required document asked only
for some answers (the vehicle registration, only when the car is leased), a
workflow with a step a reader may take, transitions offered only for some
answers, a refusal needing a reason and a comment, a prefill and a check
using the citizen's identity, and a reaction to transitions that records an
audit event and may refuse (or fail).

``permanence`` (« Rendez-vous à la permanence ») takes no document and may
be filed without an account: it is the one agents file at the counter.
"""

from __future__ import annotations

from collections.abc import Mapping

from gateway import (
    Choice,
    CitizenIdentity,
    Commune,
    DocumentSpec,
    FieldError,
    FormField,
    Localized,
    RequestHandle,
    ServiceDefinition,
    ServiceSettings,
    State,
    Transition,
    TransitionRefused,
    Workflow,
    hookimpl,
)

#: the plugin API version this plugin is written for (docs/plugin_api.md)
GUICHET_PLUGIN_API = "1.0"

#: a plate starting with this makes the plugin refuse the grant (TransitionRefused)
REFUSED_PLATE = "XX"
#: a plate starting with this makes the plugin crash during any transition
CRASHING_PLATE = "ZZ"
#: a plate starting with this makes the plugin crash when the request is filed, after recording an event
UNFILEABLE_PLATE = "YY"
NOT_YOUR_NAME = Localized("Indiquez votre propre nom.", "Give your own name.")
NO_STOCK = Localized("Plus de vignettes en stock pour cette plaque.", "No sticker left for this plate.")

WORKFLOW = Workflow(
    states=(
        State("submitted", Localized("Déposée", "Submitted")),
        State("review", Localized("En instruction", "Under review")),
        State("granted", Localized("Accordée", "Granted"), final=True),
        State("refused", Localized("Refusée", "Refused"), final=True),
    ),
    transitions=(
        Transition("triage", Localized("Trier", "Triage"), ("submitted",), "review", level="reader"),
        Transition(
            "mail",
            Localized("Envoyer par courrier", "Mail it"),
            ("review",),
            "granted",
            notify=Localized("Votre vignette part par courrier.", "Your sticker is in the post."),
            only_if=("delivery", ("post",)),
        ),
        Transition(
            "hand-over",
            Localized("Remettre au guichet", "Hand it over"),
            ("review",),
            "granted",
            notify=Localized("Votre vignette vous attend en mairie.", "Your sticker waits at the town hall."),
            only_if=("delivery", ("counter",)),
        ),
        Transition(
            "refuse",
            Localized("Refuser", "Refuse"),
            ("submitted", "review"),
            "refused",
            notify=Localized("Votre demande de vignette est refusée.", "Your sticker request is refused."),
            reasons=(
                Choice("not-resident", Localized("Hors de la commune", "Not a resident")),
                Choice("incomplete", Localized("Dossier incomplet", "Incomplete file")),
            ),
            comment_required=True,
        ),
    ),
)

VIGNETTE = ServiceDefinition(
    key="vignette",
    title=Localized("Vignette de stationnement résident", "Resident parking sticker"),
    description=Localized("Demandez la vignette de stationnement résident.", "Ask for the resident sticker."),
    reference_prefix="VIG",
    purpose=Localized("Délivrer la vignette de stationnement résident.", "To issue the resident parking sticker."),
    workflow=WORKFLOW,
    retention_days=400,
    draft_days=20,
    documents=(
        DocumentSpec(
            "lease",
            Localized("Contrat de location du véhicule", "Vehicle lease"),
            show_if=("ownership", ("leased",)),
        ),
    ),
)

PERMANENCE = ServiceDefinition(
    key="permanence",
    title=Localized("Rendez-vous à la permanence", "Appointment at the drop-in desk"),
    description=Localized("Demandez un rendez-vous.", "Ask for an appointment."),
    reference_prefix="PRM",
    purpose=Localized("Organiser les rendez-vous de la permanence.", "To arrange drop-in appointments."),
    requires_sign_in=False,
    subject_field="email",
)

VIGNETTE_FORM = (
    FormField("name", Localized("Nom", "Name")),
    FormField("email", Localized("Courriel", "E-mail"), kind="email", required=False),
    FormField("plate", Localized("Immatriculation", "Number plate"), max_length=12),
    FormField(
        "ownership",
        Localized("Le véhicule est", "The vehicle is"),
        kind="select",
        choices=(
            Choice("owned", Localized("à moi", "mine")),
            Choice("leased", Localized("en location", "leased")),
        ),
    ),
    FormField(
        "delivery",
        Localized("Retrait", "Delivery"),
        kind="select",
        choices=(
            Choice("counter", Localized("au guichet", "at the counter")),
            Choice("post", Localized("par courrier", "by post")),
        ),
    ),
    FormField(
        "address", Localized("Adresse postale", "Postal address"), kind="textarea", show_if=("delivery", ("post",))
    ),
)

PERMANENCE_FORM = (
    FormField("email", Localized("Courriel", "E-mail"), kind="email"),
    FormField("topic", Localized("Objet", "Subject"), max_length=100),
)


@hookimpl
def guichet_services() -> list[ServiceDefinition]:
    return [VIGNETTE, PERMANENCE]


@hookimpl
def guichet_service_form(service: ServiceDefinition, commune: Commune, settings: ServiceSettings) -> list[FormField]:
    return list(VIGNETTE_FORM if service.key == VIGNETTE.key else PERMANENCE_FORM)


@hookimpl
def guichet_prefill_form(service: ServiceDefinition, citizen: CitizenIdentity) -> Mapping[str, str] | None:
    if service.key != VIGNETTE.key:
        return None
    name = " ".join(part for part in (citizen.given_name, citizen.family_name) if part)
    # "birthdate" is not a field of the form: the core must drop it
    return {"name": name, "email": citizen.email or "", "birthdate": citizen.birthdate or "2000-01-01"}


@hookimpl
def guichet_validate_request(
    service: ServiceDefinition, data: Mapping[str, str], citizen: CitizenIdentity | None
) -> list[FieldError]:
    """A verified citizen asks for a sticker in their own name."""
    if service.key != VIGNETTE.key or citizen is None or not citizen.verified or not citizen.family_name:
        return []
    if citizen.family_name.casefold() not in data.get("name", "").casefold():
        return [FieldError("name", NOT_YOUR_NAME)]
    return []


@hookimpl
def guichet_request_submitted(service: ServiceDefinition, request: RequestHandle) -> None:
    request.summary = f"Vignette {request.data.get('plate', '')}"
    if request.data.get("plate", "").startswith(UNFILEABLE_PLATE):
        request.record_event("register")
        raise RuntimeError("the sticker register is down")


@hookimpl
def guichet_request_transition(service: ServiceDefinition, request: RequestHandle, transition: Transition) -> None:
    """Record every decision; refuse (or crash on) some plates after recording, so the record must vanish too."""
    request.record_event(f"stock-{transition.name}")
    plate = request.data.get("plate", "")
    if plate.startswith(CRASHING_PLATE):
        raise RuntimeError("the sticker printer is on fire")
    if transition.target == "granted" and plate.startswith(REFUSED_PLATE):
        raise TransitionRefused(NO_STOCK)
