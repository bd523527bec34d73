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

Each form is filled as :mod:`gateway.demo.form_filling` says. The same ``seed``
draws the same people, answers and fates; each run adds
N more requests (submission keys are always new).
"""

from __future__ import annotations

import functools
import heapq
import itertools
import random
import secrets
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import select

from gateway import clock
from gateway.communes import Commune
from gateway.db import Database
from gateway.demo import timeline
from gateway.demo.form_filling import citizen_caller, email_of, fill_and_file
from gateway.demo.staff import Agents, demo_agents
from gateway.models import Citizen
from gateway.registry import Registry
from gateway.requests.backoffice.queries import AgentCase
from gateway.requests.caller import Caller
from gateway.requests.errors import RequestError
from gateway.requests.lifecycle import CitizenRequests

#: the issuer of demo citizens: no identity provider signs anyone in under it
DEMO_ISSUER = "demo-activity"

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
    #: the requests given up, by service: a service whose rules the demo's answers keep failing shows here
    skipped_by_service: Counter[str] = field(default_factory=Counter)

    def __str__(self) -> str:
        communes = ", ".join(f"{slug} {count}" for slug, count in sorted(self.by_commune.items())) or "none"
        services = ", ".join(f"{key} {count}" for key, count in sorted(self.skipped_by_service.items()))
        return (
            f"demo activity: {self.filed} request(s) filed ({communes}), {self.decided} decided, "
            f"{self.awaiting} awaiting the citizen, {self.withdrawn} withdrawn, {self.skipped} given up"
            + (f" ({services})" if services else "")
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
    offers = available_offers(registry)
    if count <= 0 or not offers:
        return summary
    until = until or clock.now()
    citizens = _demo_citizens(db)
    agents = {commune.slug: demo_agents(db, commune) for commune, _key in offers}
    people = CitizenRequests(db, registry)
    office = Agents(db, registry)
    order = itertools.count()
    moments: list[tuple[datetime, int, Callable[[], None]]] = []

    def file_one() -> None:
        for _attempt in range(8):  # a service that keeps refusing is tried elsewhere
            commune, key = rng.choice(offers)
            citizen = rng.choice(citizens)
            filed = fill_and_file(people, registry, rng, citizen, commune, key)
            if filed is None:
                summary.skipped += 1
                summary.skipped_by_service[key] += 1
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


def available_offers(registry: Registry) -> list[tuple[Commune, str]]:
    """Every (commune, service) a citizen can use now: enabled there, and its plugin in service."""
    return [
        (commune, key)
        for commune in registry.communes.values()
        for key in commune.services
        if registry.is_available(key) and registry.services.get(key) is not None
    ]


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
                    email=email_of(given, family),
                    created_at=datetime.now(UTC),
                )
                session.add(citizen)
                session.flush()
            found.append(citizen)
    return found


# The citizen's side ------------------------------------------------------------------------------


# The agents' side ------------------------------------------------------------------------------


def _work_on(
    office: Agents,
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


def _decide(office: Agents, rng: random.Random, agent: Caller, commune: str, reference: str) -> bool:
    """Take transitions until the request is decided (at most a few steps), reopening the file after each."""
    for _ in range(6):
        case = office.case(agent, commune, reference)
        if case.rules.definition.workflow.is_decided(case.request.status):
            return True
        if not _step(office, rng, agent, commune, case, final=True):
            return False
    return False


def _step(office: Agents, rng: random.Random, agent: Caller, commune: str, case: AgentCase, *, final: bool) -> bool:
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
                choice=rng.choice(options).value if (options := case.choices.get(transition.name)) else "",
            )
        except RequestError:
            continue
        return True
    return False
