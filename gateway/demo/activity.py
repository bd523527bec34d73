"""Demo activity: requests from fictitious citizens, and agents working on them, through the real service layer.

``guichet demo seed --requests N`` files N requests spread over the communes
and the services they enable and over the past six weeks, each as a citizen
would (draft, form, documents, submission); a few working days later the
commune's demo agents look at it, assign it, write notes and messages, ask
the citizen for a complement or take workflow transitions until a decision.
The core's clock is set back to each of these moments, played in time order
(:mod:`gateway.demo.timeline`), so dates, ages and the audit log's times are
those of weeks of use. Everything goes through
:class:`~gateway.requests.lifecycle.CitizenRequests` and
:mod:`gateway.requests.backoffice`, so the audit log, the
history lines and the outbox are those of real use.

The form of any service is filled generically from its :class:`FormField`
list (a choice for a select, a plausible date, fictitious names, addresses at
``example.org``); when the service's own checks refuse the answers, the
fields they name are drawn again, a few times, before the request is given
up. The same ``seed`` draws the same people, answers and fates; each run adds
N more requests (submission keys are always new).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import random
import secrets
import struct
import unicodedata
import zlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from gateway import clock
from gateway.audit.builders import account_event
from gateway.audit.events import SYSTEM, Actor
from gateway.audit.log import record
from gateway.communes import Commune
from gateway.db import Database
from gateway.demo import timeline
from gateway.demo.identity_provider.clients import staff_client_credentials
from gateway.demo.identity_provider.people import SYNDICATE, staff_people
from gateway.demo.identity_provider.tokens import pairwise_subject
from gateway.identity import staff as staff_accounts
from gateway.identity.federation import link_staff
from gateway.identity.principal import Grant, Principal
from gateway.identity.providers import provider_registry
from gateway.models import Citizen, StaffRole, StaffUser
from gateway.registry import Registry
from gateway.requests.attachments import JPEG, PDF, PNG, UploadRefused
from gateway.requests.backoffice.commands import BackOfficeCommands
from gateway.requests.backoffice.queries import AgentCase, BackOfficeQueries
from gateway.requests.caller import Caller
from gateway.requests.errors import RequestError, ServiceUnavailable
from gateway.requests.field_kinds import empty_value
from gateway.requests.lifecycle import CitizenRequests
from gateway.requests.rules import rules_for
from gateway.requests.submission_keys import new_submission_key
from gateway.services import CitizenIdentity, DocumentSpec, FieldError, FieldValue, FormField, FormValues, PostalAddress

ORIGIN = "cli demo seed"
#: the issuer of demo citizens: no identity provider signs anyone in under it
DEMO_ISSUER = "demo-activity"
EMAIL_DOMAIN = "example.org"  # reserved for examples (RFC 2606); the form checks refuse ``.invalid``
ATTEMPTS = 8

#: Clearly fictitious people.
CITIZENS: tuple[tuple[str, str], ...] = (
    ("Alix", "Démo-Essai"),
    ("Bastien", "Fictif"),
    ("Capucine", "Exemplaire"),
    ("Dorian", "Imaginaire"),
    ("Éloïse", "Pour-de-Faux"),
    ("Fabrice", "Démonstration"),
    ("Gaëlle", "Maquette"),
    ("Hugo", "Simulé"),
)
#: Demo agents created in each commune that enables a service: (username suffix, display name).
AGENTS: tuple[tuple[str, str], ...] = (("instructeur", "Agent démo A"), ("instructrice", "Agente démo B"))
#: The accounts a newcomer signs in as through the demo staff directory: role there → (username suffix, grant).
#: The agent is the first of AGENTS, so the requests the activity gives it are the newcomer's own.
STAFF_PERSONAS: Mapping[str, tuple[str, str]] = {
    "agent": ("instructeur", "agent:{commune}"),
    "supervisor": ("responsable", "supervisor:{commune}"),
    "auditor": ("auditeur", "auditor:{commune}"),
}
#: the same for the syndicate's demo directory (``demo.<suffix>.syndicat``): they act for every commune
SYNDICATE_PERSONAS: Mapping[str, tuple[str, str]] = {
    "auditor": ("auditrice", "auditor"),
    "administrator": ("administrateur", "administrator"),
}

MESSAGES = (
    "Bonjour, je vous écris au sujet de cette démarche. Merci d'avance pour votre réponse.",
    "Le trottoir devant le 12 rue de l'Exemple est abîmé depuis l'orage de la semaine dernière.",
    "Pourriez-vous m'indiquer les horaires d'ouverture de la mairie annexe pendant les vacances ?",
    "Je signale un dépôt sauvage de déchets à l'angle de l'avenue Fictive et de la rue des Essais.",
)
NOTES = (
    "Vérifié le dossier : complet.",
    "À voir avec le service technique.",
    "Appel au demandeur sans réponse, rappeler demain.",
)
AGENT_MESSAGES = (
    "Bonjour, votre demande est bien arrivée, nous la traitons.",
    "Nous avons transmis votre demande au service concerné.",
)
ASKS = (
    "Merci de nous envoyer un justificatif de domicile de moins de trois mois.",
    "Pouvez-vous préciser l'adresse exacte concernée ?",
)
COMMENTS = (
    "Réponse de démonstration : votre demande a été traitée.",
    "Demande traitée par le service (donnée de démonstration).",
)


@dataclass
class ActivitySummary:
    filed: int = 0
    skipped: int = 0
    decided: int = 0
    awaiting: int = 0
    withdrawn: int = 0
    by_commune: Counter[str] = field(default_factory=Counter)

    def __str__(self) -> str:
        communes = ", ".join(f"{slug} {count}" for slug, count in sorted(self.by_commune.items())) or "none"
        return (
            f"demo activity: {self.filed} request(s) filed ({communes}), {self.decided} decided, "
            f"{self.awaiting} awaiting the citizen, {self.withdrawn} withdrawn, {self.skipped} given up"
        )


def seed_activity(
    db: Database,
    registry: Registry,
    count: int,
    *,
    seed: int = 1,
    until: datetime | None = None,
    extra: Sequence[Planned] = (),
) -> ActivitySummary:
    """File ``count`` demo requests over the past weeks, agents working on them days later; returns what was done.

    Each moment is played with the core's clock set back to it, in time order
    (:mod:`gateway.demo.timeline`), up to ``until`` (now): a request's first
    look that would fall later is left for the agents of the demo. ``extra``
    are further moments to play among them (the planted anomalies,
    :mod:`gateway.demo.anomalies`).
    """
    rng = random.Random(seed)  # noqa: S311  (fictitious data, reproducible on purpose)
    summary = ActivitySummary()
    offers = _offers(registry)
    if count <= 0 or not offers:
        return summary
    until = until or clock.now()
    citizens = _demo_citizens(db)
    agents = {commune.slug: _demo_agents(db, commune) for commune, _key in offers}
    people = CitizenRequests(db, registry)
    office = _Agents(db, registry)
    order = itertools.count()
    moments: list[tuple[datetime, int, Callable[[], None]]] = []

    def file_one() -> None:
        for _attempt in range(8):  # a service that keeps refusing is tried elsewhere
            commune, key = rng.choice(offers)
            citizen = rng.choice(citizens)
            filed = _file_one(people, registry, rng, citizen, commune, key)
            if filed is None:
                summary.skipped += 1
                continue
            summary.filed += 1
            summary.by_commune[commune.slug] += 1
            work: Callable[[], None] = functools.partial(
                _work_on, office, people, rng, citizen, agents[commune.slug], commune, filed, summary
            )
            look = timeline.first_look(rng, clock.now())
            if look <= until:
                heapq.heappush(moments, (look, next(order), work))
            return

    for moment in timeline.filing_times(rng, count, until):
        heapq.heappush(moments, (moment, next(order), file_one))
    for planned in extra:
        heapq.heappush(moments, (planned.moment, next(order), planned.play))
    _play(moments)
    return summary


@dataclass(frozen=True)
class Planned:
    """Something to do at a moment of the demo's past (see :func:`seed_activity`)."""

    moment: datetime
    play: Callable[[], None]


def _play(moments: list[tuple[datetime, int, Callable[[], None]]]) -> None:
    """Play the moments in time order, each with the clock set back to it, never before the previous one ended."""
    ended: datetime | None = None
    while moments:
        moment, _order, play = heapq.heappop(moments)
        with clock.set_back(max(moment, ended) if ended is not None else moment):
            play()
            ended = clock.now()


# Who takes part -------------------------------------------------------------------------------


def citizen_caller(citizen: Citizen) -> Caller:
    """Act as a citizen through the service layer (what a signed-in page would do)."""
    return Caller(
        actor=Actor(f"citizen:{citizen.public_id}", "citizen"),
        origin=ORIGIN,
        citizen_id=citizen.id,
        citizen_public_id=citizen.public_id,
        identity=CitizenIdentity(
            given_name=citizen.given_name, family_name=citizen.family_name, email=citizen.email, verified=False
        ),
    )


def staff_caller(staff: StaffUser, grants: Sequence[Grant], *, origin: str = ORIGIN) -> Caller:
    """Act as a staff member with these grants through the service layer."""
    assert staff.id is not None
    principal = Principal(
        kind="staff",
        session_hash="demo-activity",
        user_id=staff.id,
        handle=staff.username,
        display_name=staff.display_name,
        authenticated_at=datetime.now(UTC),
        grants=tuple(grants),
    )
    return Caller(actor=principal.actor(), origin=origin, principal=principal)


def _offers(registry: Registry) -> list[tuple[Commune, str]]:
    """Every (commune, service) a citizen can use now: enabled there, and its plugin in service."""
    return [
        (commune, key)
        for commune in registry.communes.values()
        for key in commune.services
        if registry.is_available(key) and registry.services.get(key) is not None
    ]


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in plain.lower() if ch.isalnum() or ch in ".-")


def _email(given: str, family: str) -> str:
    return f"{_ascii(given)}.{_ascii(family)}@{EMAIL_DOMAIN}"


def _demo_citizens(db: Database) -> list[Citizen]:
    found = []
    with db.session() as session:
        for number, (given, family) in enumerate(CITIZENS, start=1):
            sub = f"demo-citizen-{number}"
            citizen = session.exec(select(Citizen).where(Citizen.issuer == DEMO_ISSUER, Citizen.sub == sub)).first()
            if citizen is None:
                citizen = Citizen(
                    public_id=secrets.token_hex(16),
                    issuer=DEMO_ISSUER,
                    sub=sub,
                    given_name=given,
                    family_name=family,
                    email=_email(given, family),
                    created_at=datetime.now(UTC),
                )
                session.add(citizen)
                session.flush()
            found.append(citizen)
    return found


def _demo_agents(db: Database, commune: Commune) -> list[Caller]:
    """The commune's demo agents (instructors for all its services), created when missing."""
    grants = [Grant("agent", commune.slug, None, "instructor")]
    callers = []
    with db.session() as session:
        for suffix, name in AGENTS:
            username = f"demo.{suffix}.{commune.slug}"
            staff = staff_accounts.find(session, username)
            if staff is None:
                staff = _create_agent(session, username, f"{name} ({commune.name})", grants)
            callers.append(staff_caller(staff, grants))
    return callers


def demo_staff(db: Database, registry: Registry) -> int:
    """Create the staff a newcomer signs in as through the demo directories, and link them; how many were linked.

    For each commune whose staff sign in through the demo provider (demo only,
    on loopback, no staff provider of its own): an agent instructing every
    service, a supervisor and an auditor of that commune; and for the
    syndicate's demo directory, its auditor and its administrator (every
    commune); each with no password and linked to its fictitious person (as
    ``guichet users link-oidc`` would, with the same checks). Runs at every
    seed: the link follows the issuer, which is the address the demo is
    served at. An account of the same name that has a password or a TOTP
    seed is a real one: it is left alone, never linked to a fictitious person.
    """
    settings = registry.settings
    providers = provider_registry(settings)
    directories: list[tuple[str | None, str, str]] = [
        (commune.slug, commune.slug, commune.name) for commune in registry.communes.values()
    ]
    directories.append((None, SYNDICATE, "syndicat"))  # the syndicate's: a staff provider of no commune
    linked = 0
    with db.session() as session:
        for slug, directory, name in directories:
            provider = providers.staff_of(slug, with_demo=True)
            if provider is None or not provider.demo:
                continue
            client_id, _secret = staff_client_credentials(settings, directory)
            for person in staff_people(directory):
                suffix, grant = STAFF_PERSONAS[person.role] if slug else SYNDICATE_PERSONAS[person.role]
                username = f"demo.{suffix}.{slug or 'syndicat'}"
                display_name = f"{person.display_name} ({name})"
                staff = staff_accounts.find(session, username)
                if staff is None:
                    grants = [staff_accounts.parse_grant(grant.format(commune=slug))]
                    staff = _create_agent(session, username, display_name, grants)
                elif staff.password_hash is not None or staff.totp_secret is not None:
                    continue
                sub = pairwise_subject(settings.secret_key, client_id, person.id)
                if (staff.oidc_issuer, staff.oidc_sub) != (provider.issuer, sub):
                    staff.display_name = display_name
                    link_staff(session, staff, provider, sub)
                    linked += 1
    return linked


def _create_agent(session: Session, username: str, display_name: str, grants: list[Grant]) -> StaffUser:
    """An account with no password (never signed in with one: the demo directory, if any, vouches for it), audited."""
    staff = StaffUser(
        username=username, display_name=display_name, email=f"{username}@{EMAIL_DOMAIN}", created_at=datetime.now(UTC)
    )
    session.add(staff)
    session.flush()
    assert staff.id is not None
    for grant in grants:
        role = StaffRole(staff_id=staff.id, role=grant.role, commune=grant.commune, service=grant.service)
        role.level = grant.level
        session.add(role)
    purpose = "comptes d'agents de démonstration"
    record(session, account_event("staff.create", SYSTEM, resource=f"staff/{staff.id}", purpose=purpose, origin=ORIGIN))
    return staff


# The citizen's side ------------------------------------------------------------------------------


def _file_one(
    people: CitizenRequests, registry: Registry, rng: random.Random, citizen: Citizen, commune: Commune, key: str
) -> str | None:
    """Draft, fill, attach, submit; the request's public id, or None when the service kept refusing."""
    caller = citizen_caller(citizen)
    try:
        rules = rules_for(registry, commune, key)
        form, definition = rules.form, rules.definition  # the definition's documents and the form's document fields
        draft = people.start_draft(caller, commune.slug, key, submission_key=new_submission_key())
        values = _fill(rng, form, citizen, commune, {})
        for attempt in range(ATTEMPTS):
            _attach_documents(people, caller, draft.public_id, definition.documents, values, rng)
            submitted = people.submit(caller, draft.public_id, values)
            if not submitted.errors:
                return draft.public_id
            # draw again the fields the service named; when that does not do, the whole form
            redraw = _names(submitted.errors) if attempt < ATTEMPTS // 2 else None
            values = _fill(rng, form, citizen, commune, values if redraw else {}, redraw=redraw)
        people.discard_draft(caller, draft.public_id)
    except (RequestError, UploadRefused, ServiceUnavailable):
        return None
    return None


def _names(errors: Sequence[FieldError]) -> set[str]:
    return {error.field for error in errors}


def _fill(
    rng: random.Random,
    form: Sequence[FormField],
    citizen: Citizen,
    commune: Commune,
    previous: FormValues,
    *,
    redraw: set[str] | None = None,
) -> dict[str, FieldValue]:
    """Answers for every field: kept from ``previous`` except those to draw again (all on the first go)."""
    values: dict[str, FieldValue] = {}
    for form_field in form:
        if form_field.kind == "document":
            continue  # attached below, with the service's documents
        if redraw is not None and form_field.name not in redraw and form_field.name in previous:
            values[form_field.name] = previous[form_field.name]
        else:
            values[form_field.name] = _answer(rng, form_field, citizen, commune)
    return values


def _answer(rng: random.Random, form_field: FormField, citizen: Citizen, commune: Commune) -> FieldValue:
    if form_field.kind in ("select", "radio"):
        return rng.choice(form_field.choices).value if form_field.choices else ""
    if form_field.kind == "checkboxes":
        ticked = [choice.value for choice in form_field.choices if rng.random() < 0.5]
        return ticked or [form_field.choices[0].value]
    if form_field.kind == "number":
        return rng.randint(form_field.min_value or 0, form_field.max_value or 0)
    if not form_field.required and rng.random() < 0.7:
        return empty_value(form_field)
    if form_field.kind == "yesno":
        return rng.random() < 0.5
    if form_field.kind == "address":
        address: PostalAddress = {"number": rng.randrange(1, 90), "suffix": rng.choice(("", "", "bis")),
                                  "street": "rue de la Démonstration", "complement": "",
                                  "postcode": commune.postcode, "town": commune.city}  # fmt: skip
        return address
    given, family = citizen.given_name or "Alix", citizen.family_name or "Démo"
    hints = f"{form_field.name} {form_field.autocomplete or ''}".lower()
    if form_field.kind == "date" and any(word in hints for word in ("child", "enfant")):
        # a child of school age (2 to 11), so that services about children see plausible ones
        born = date.today().year - rng.randrange(2, 12)
        value = date(born, rng.randrange(1, 13), rng.randrange(1, 29)).isoformat()
    elif form_field.kind == "date":
        start = date(1965, 1, 1)
        value = (start + timedelta(days=rng.randrange((date(2020, 12, 31) - start).days))).isoformat()
    elif form_field.kind == "email":
        value = _email(given, family)
    elif form_field.kind == "tel":
        value = f"04 00 00 {rng.randrange(100):02d} {rng.randrange(100):02d}"
    elif form_field.kind == "textarea":
        value = rng.choice(MESSAGES)
    else:
        value = _text(rng, hints, given, family, commune)
    return value[: form_field.max_length]


def _text(rng: random.Random, hints: str, given: str, family: str, commune: Commune) -> str:
    rules: tuple[tuple[tuple[str, ...], Callable[[], str]], ...] = (
        (("postal-code", "postcode", "code_postal"), lambda: commune.postcode),
        (("address-level2", "city", "ville"), lambda: commune.city),
        (("country", "pays"), lambda: "France"),
        (("address-line2", "complement"), lambda: f"Bâtiment {rng.choice('ABC')}"),
        (("address", "street", "rue"), lambda: f"{rng.randrange(1, 90)} rue de la Démonstration"),
        (("mother",), lambda: f"{rng.choice(('Claire', 'Anne', 'Sophie'))} Démo-Mère"),
        (("father",), lambda: f"{rng.choice(('Paul', 'Jean', 'Marc'))} Démo-Père"),
        (("given",), lambda: given),
        (("family", "surname", "nom"), lambda: family),
        (("name",), lambda: f"{given} {family}"),
        (("phone",), lambda: f"04 00 00 {rng.randrange(100):02d} {rng.randrange(100):02d}"),
    )
    for words, make in rules:
        if any(word in hints for word in words):
            return make()
    return "Démo"


def _attach_documents(
    people: CitizenRequests,
    caller: Caller,
    public_id: str,
    documents: Sequence[DocumentSpec],
    values: FormValues,
    rng: random.Random,
) -> None:
    """One small fictitious file for every document the answers call for and the draft lacks."""
    have = {attachment.document for attachment in people.case(caller, public_id).attachments}
    for spec in documents:
        if spec.name in have or not spec.applies(values) or (not spec.required and rng.random() < 0.5):
            continue
        name, data = _sample_file(spec)
        people.attach(caller, public_id, spec.name, name, data)


def _sample_file(spec: DocumentSpec) -> tuple[str, bytes]:
    if PDF in spec.accept:
        body = f"%PDF-1.4\n% document de demonstration : {spec.name}\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
        return f"{spec.name}-demo.pdf", body.encode()
    if PNG in spec.accept:
        return f"{spec.name}-demo.png", _png()
    if JPEG in spec.accept:
        raise UploadRefused(422, spec.label)  # no JPEG sample: the request is given up
    raise UploadRefused(422, spec.label)


def _png() -> bytes:
    """A real 1×1 white PNG."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# The agents' side ------------------------------------------------------------------------------


class _Agents(BackOfficeQueries, BackOfficeCommands):
    """The demo's agents read and act through the back office, as a person at its pages would."""


def _work_on(
    office: _Agents,
    people: CitizenRequests,
    rng: random.Random,
    citizen: Citizen,
    agents: Sequence[Caller],
    commune: Commune,
    public_id: str,
    summary: ActivitySummary,
) -> None:
    """What a commune's agents might do with a new request, drawn at random: often a decision."""
    citizen_side = citizen_caller(citizen)
    reference = people.case(citizen_side, public_id).request.reference
    assert reference is not None
    agent = rng.choice(agents)
    fate = rng.random()
    try:
        if fate < 0.08:
            return  # not looked at yet
        case = office.case(agent, commune.slug, reference)
        if rng.random() < 0.5 and case.assignees:
            office.assign(agent, commune.slug, reference, rng.choice(case.assignees)[0], expected_version=None)
        if rng.random() < 0.3:
            office.note(agent, commune.slug, reference, rng.choice(NOTES))
        if rng.random() < 0.25:
            office.message(agent, commune.slug, reference, rng.choice(AGENT_MESSAGES))
        if fate < 0.15:
            people.withdraw(citizen_side, public_id)
            summary.withdrawn += 1
        elif fate < 0.35:
            office.ask_citizen(agent, commune.slug, reference, rng.choice(ASKS), expected_version=None)
            summary.awaiting += 1
        elif fate < 0.85:
            if _decide(office, rng, agent, commune.slug, reference):
                summary.decided += 1
        else:
            _step(office, rng, agent, commune.slug, office.case(agent, commune.slug, reference), final=False)
    except RequestError:
        return  # a refusal (a plugin's rule, a race) leaves the request where it is, as it would an agent


def _decide(office: _Agents, rng: random.Random, agent: Caller, commune: str, reference: str) -> bool:
    """Take transitions until the request is decided (at most a few steps), reopening the file after each."""
    for _ in range(6):
        case = office.case(agent, commune, reference)
        if case.rules.definition.workflow.is_decided(case.request.status):
            return True
        if not _step(office, rng, agent, commune, case, final=True):
            return False
    return False


def _step(office: _Agents, rng: random.Random, agent: Caller, commune: str, case: AgentCase, *, final: bool) -> bool:
    """One transition, toward a decision (``final``) or one that keeps the request open; False when none was taken."""
    workflow = case.rules.definition.workflow
    choices = [t for t in case.transitions if final or not workflow.state(t.target).final]
    rng.shuffle(choices)
    for transition in choices:
        try:
            office.transition(
                agent,
                commune,
                case.request.reference or "",
                transition.name,
                expected_version=case.request.version,
                comment=rng.choice(COMMENTS) if transition.comment_required or rng.random() < 0.3 else "",
                reason=rng.choice(transition.reasons).value if transition.reasons else "",
            )
        except RequestError:
            continue
        return True
    return False
