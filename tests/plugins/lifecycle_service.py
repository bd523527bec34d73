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

import secrets
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from gateway import (
    Choice,
    CitizenIdentity,
    DocumentSpec,
    FieldError,
    FormField,
    Localized,
    ServiceDefinition,
    State,
    Transition,
    TransitionRefused,
    Workflow,
    hookimpl,
)
from gateway.audit.events import Actor
from gateway.communes import Commune
from gateway.db import Database
from gateway.identity.principal import Principal
from gateway.models import Attachment, Citizen, RequestEvent, ServiceRequest
from gateway.models.audit import AuditEntry
from gateway.models.outbox import OutboxMessage
from gateway.request_handle import RequestHandle
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.backoffice.queries import BackOfficeQueries
from gateway.requests.caller import Caller
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.rules import ServiceRules, rules_for
from gateway.services import ServiceSettings
from gateway.testing import ConfigFolder

#: a plate starting with this makes the plugin refuse the grant (TransitionRefused)
REFUSED_PLATE = "XX"
#: a plate starting with this makes the plugin crash during any transition
CRASHING_PLATE = "ZZ"
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


@hookimpl
def guichet_request_transition(service: ServiceDefinition, request: RequestHandle, transition: Transition) -> None:
    """Record every decision; refuse (or crash on) some plates after recording, so the record must vanish too."""
    request.record_event(f"stock-{transition.name}")
    plate = request.data.get("plate", "")
    if plate.startswith(CRASHING_PLATE):
        raise RuntimeError("the sticker printer is on fire")
    if transition.target == "granted" and plate.startswith(REFUSED_PLATE):
        raise TransitionRefused(NO_STOCK)


# Test support -----------------------------------------------------------------------
# Not hooks: what the request tests share to build a gateway with this plugin and act on it.


def enable(config: ConfigFolder, **retention: int) -> None:
    """Vénissieux offers both services (with ``retention`` overrides), Corbas only the sticker."""
    config.set_commune("venissieux", services={"vignette": {}, "permanence": {}}, retention=dict(retention))
    config.set_commune("corbas", services={"vignette": {}})


class Desk:
    """A registry and a database with this plugin (and the antivirus), and ready-made callers."""

    def __init__(self, config: ConfigFolder, url: str) -> None:
        from gateway.app import load_registry
        from gateway.settings import load_settings
        from tests.plugins import antivirus, lifecycle_service

        self.db = Database(url)
        self.registry = load_registry(
            load_settings(config.path),
            extra_plugins=[("lifecycle_service", lifecycle_service), ("antivirus", antivirus)],
        )
        self.citizens = CitizenRequests(self.db, self.registry)
        self.queries = BackOfficeQueries(self.db, self.registry)
        self.commands = BackOfficeCommands(self.db, self.registry)

    def rules(self, key: str, commune: str = "venissieux") -> ServiceRules:
        """A service's rules in a commune, as a page resolves them once for its request."""
        found = self.registry.commune(commune)
        assert found is not None
        return rules_for(self.registry, found, key)

    def close(self) -> None:
        self.db.dispose()

    # Callers ----------------------------------------------------------------------------

    def citizen(
        self,
        *,
        given_name: str = "Camille",
        family_name: str = "Exemple",
        email: str | None = "camille@example.org",
        verified: bool = False,
        locale: str = "fr",
    ) -> Caller:
        with self.db.session() as session:
            row = Citizen(public_id=secrets.token_hex(16), issuer="https://idp.test", sub=secrets.token_hex(8),
                          given_name=given_name, family_name=family_name, email=email,
                          created_at=datetime.now(UTC))  # fmt: skip
            session.add(row)
            session.flush()
            assert row.id is not None
            citizen_id, public_id = row.id, row.public_id
        identity = CitizenIdentity(given_name=given_name, family_name=family_name, email=email, verified=verified)
        return Caller(
            actor=Actor(f"citizen:{public_id}", "citizen"),
            origin="test",
            locale=locale,
            citizen_id=citizen_id,
            citizen_public_id=public_id,
            identity=identity,
        )

    def staff(self, username: str, *grants: str) -> Caller:
        """A staff member with grants like ``agent:venissieux:vignette:reader``."""
        from gateway.identity import staff as accounts

        parsed = [accounts.parse_grant(grant) for grant in grants]
        with self.db.session() as session:
            row = accounts.create(session, username=username, display_name=username.title(),
                                  email=f"{username}@guichet.example", password=PASSWORD, grants=parsed)  # fmt: skip
            assert row.id is not None
            staff_id = row.id
        principal = Principal(kind="staff", session_hash=secrets.token_hex(8), user_id=staff_id, handle=username,
                              display_name=username.title(), authenticated_at=datetime.now(UTC),
                              grants=tuple(parsed))  # fmt: skip
        return Caller(actor=principal.actor("agent"), origin="test", principal=principal)

    # Requests ---------------------------------------------------------------------------

    def draft(self, caller: Caller, commune: str = "venissieux", **values: str) -> ServiceRequest:
        row = self.citizens.start_draft(caller, commune, VIGNETTE.key, submission_key=secrets.token_urlsafe(12))
        if values:
            row, _errors = self.citizens.save_draft(caller, row.public_id, {**GOOD_ANSWERS, **values})
        return row

    def submitted(self, caller: Caller, commune: str = "venissieux", **values: str) -> ServiceRequest:
        """A submitted sticker request (leased cars get their lease attached first)."""
        answers = {**GOOD_ANSWERS, **values}
        row = self.draft(caller, commune, **answers)
        if answers["ownership"] == "leased":
            self.citizens.attach(caller, row.public_id, "lease", "lease.pdf", PDF)
        outcome = self.citizens.submit(caller, row.public_id)
        assert not outcome.errors, outcome.errors
        return outcome.request

    def reload(self, row: ServiceRequest) -> ServiceRequest:
        with self.db.session(all_communes=True) as session:
            found = session.exec(select(ServiceRequest).where(ServiceRequest.public_id == row.public_id)).one()
        return found

    def events(self, row: ServiceRequest) -> list[RequestEvent]:
        with self.db.session(all_communes=True) as session:
            found = session.exec(
                select(RequestEvent).where(RequestEvent.request_id == row.id).order_by(col(RequestEvent.id))
            ).all()
        return list(found)

    def audit(self, action: str | None = None) -> list[AuditEntry]:
        with self.db.session() as session:
            query = select(AuditEntry).order_by(col(AuditEntry.seq))
            if action is not None:
                query = query.where(AuditEntry.action == action)
            return list(session.exec(query).all())

    def outbox(self) -> list[OutboxMessage]:
        with self.db.session() as session:
            return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())

    def stored_files(self) -> list[str]:
        return list(self.citizens.files.names())

    def attachment_rows(self) -> list[Attachment]:
        with self.db.session(all_communes=True) as session:
            return list(session.exec(select(Attachment)).all())


PASSWORD = "a long enough test password"  # test accounts only
GOOD_ANSWERS = {
    "name": "Camille Exemple",
    "email": "camille@example.org",
    "plate": "AB-123-CD",
    "ownership": "owned",
    "delivery": "counter",
}
#: the smallest file the core takes for a PDF
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def days_after(moment: datetime | None, days: int) -> datetime:
    """``moment`` (as stored: SQLite gives it back without a time zone) plus ``days``."""
    assert moment is not None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)) + timedelta(days=days)
