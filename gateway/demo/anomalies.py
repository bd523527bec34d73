"""Planted anomalies: what a periodic review of the demo's audit log must surface, done through the real back office.

CNIL's 2021 recommendation on logging asks for a regular, proactive analysis
of access logs. For the demo's auditor to see what such a review brings, the
first ``guichet demo seed --requests N`` also plants, among the ordinary weeks
of activity (:mod:`gateway.demo.activity`) and in the last seven days before
it ran, the few accesses listed in :data:`ANOMALIES`. Each one goes through
:class:`~gateway.requests.backoffice.queries.BackOfficeQueries` with the
core's clock set back to its moment (:func:`gateway.clock.set_back`), so the
audit log holds real, sealed entries (reads, refusals, an export) that
``guichet audit verify`` accepts like any other; nothing marks them as
planted. They happen in one commune (:data:`COMMUNE`, or the commune with the
most services when it is absent), by the demo accounts named here.

Planted once: a run that finds the extra accounts of :data:`EXTRA_AGENTS`
already there plants nothing more. A kind needs requests filed before its
moment; with too few (a small ``--requests``), it is left out, and
:class:`Planted` says which kinds were planted.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from sqlmodel import col, select

from gateway import clock
from gateway.communes import Commune
from gateway.db import Database
from gateway.demo.activity import Planned, available_offers
from gateway.demo.staff import Agents, create_agent, demo_agents, staff_caller
from gateway.demo.timeline import PARIS
from gateway.identity import staff as staff_accounts
from gateway.identity.principal import Grant
from gateway.models import ServiceRequest
from gateway.registry import Registry
from gateway.requests.backoffice.queries import QueueFilter
from gateway.requests.caller import Caller
from gateway.requests.errors import RequestError

#: the commune the anomalies happen in, when the deployment has it
COMMUNE = "venissieux"
#: the agents whose reads make one person's requests "seen by many" (with the commune's two demo agents)
EXTRA_AGENTS: tuple[tuple[str, str], ...] = tuple(
    (f"renfort-{number}", f"Agent de renfort démo {number}") for number in range(1, 6)
)
#: an agent of the commune whose grant covers one service only, who opens the others' requests
ONE_SERVICE_AGENT = ("un-service", "Agent démo d'un seul service")
#: how many reads make the day of unusual volume, and how many refusals the burst holds
VOLUME_READS = 40
BURST_DENIALS = 12


@dataclass(frozen=True)
class Anomaly:
    """One planted anomaly: its kind, who does it (a username, ``{commune}`` for the commune), what and when."""

    kind: str
    username: str
    what: str
    when: str


#: What the review must surface. ``username`` is the demo account acting (``{commune}`` is :data:`COMMUNE`); its
#: entries carry ``actor_id`` ``staff:<id of that account>``. Every moment is in the seven days before the seed ran.
ANOMALIES: tuple[Anomaly, ...] = (
    Anomaly(
        "outside-assignment",
        "demo.instructrice.{commune}",
        "3 successful request.read of requests assigned to demo.instructeur.{commune} (who took them in hand "
        "at 16:30 on the weekday before), none of them assigned to her",
        "the third weekday before the seed ran, from 14:10 Paris time",
    ),
    Anomaly(
        "outside-service",
        "demo.un-service.{commune}",
        "3 denied request.read (outcome denied) of requests of services outside the one service of the grant "
        "agent:{commune}:<service>",
        "the third weekday before the seed ran, from 15:20 Paris time",
    ),
    Anomaly(
        "volume",
        "demo.instructeur.{commune}",
        f"{VOLUME_READS} successful request.read in one day, about one every three minutes (an ordinary day of the "
        "demo's agents holds a handful)",
        "the last weekday before the seed ran, from 9:05 Paris time",
    ),
    Anomaly(
        "off-hours",
        "demo.instructrice.{commune}",
        "2 successful request.read on a Sunday night",
        "the last Sunday before the seed ran, at 23:40 and 23:44 Paris time",
    ),
    Anomaly(
        "denials",
        "demo.instructeur.<another commune>",
        f"{BURST_DENIALS} denied request.read of the commune's requests within four minutes, by an agent of another "
        "commune (each recorded under both communes)",
        "the second weekday before the seed ran, from 11:30 Paris time",
    ),
    Anomaly(
        "many-agents",
        "demo.renfort-1.{commune} … demo.renfort-5.{commune}",
        "one person's request read by 7 different agents in one day (the five extra agents, then "
        "demo.instructeur.{commune} and demo.instructrice.{commune}): entries with the same subject",
        "the fourth weekday before the seed ran, from 9:30 Paris time",
    ),
    Anomaly(
        "export",
        "demo.instructeur.{commune}",
        "an export of the queue as CSV: one request.export entry per person and service listed",
        "the last weekday before the seed ran, at 16:50 Paris time",
    ),
)


@dataclass
class Planted:
    """Which kinds of :data:`ANOMALIES` a run planted, in which commune (empty: none, or planted before)."""

    commune: str | None = None
    kinds: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.kinds:
            return "planted anomalies: none"
        return f"planted anomalies in {self.commune}: {', '.join(self.kinds)}"


def plan_anomalies(db: Database, registry: Registry, until: datetime, planted: Planted) -> list[Planned]:
    """The moments that plant :data:`ANOMALIES` in the week before ``until`` (none if planted before)."""
    offers = available_offers(registry)
    communes = {commune.slug: commune for commune, _key in offers}
    services = {slug: sum(1 for commune, _key in offers if commune.slug == slug) for slug in communes}
    if not communes:
        return []
    slug = COMMUNE if COMMUNE in communes else max(communes, key=lambda name: (services[name], name))
    commune = communes[slug]
    with db.session() as session:
        if staff_accounts.find(session, _username(EXTRA_AGENTS[0][0], slug)) is not None:
            return []
    others = [other for other in communes if other != slug]
    plant = _Planter(db, registry, commune, others[0] if others else None, planted)
    weekdays = _weekdays_before(until, 4)
    sunday = _last_sunday_night(until)
    return [
        Planned(until - timedelta(weeks=6, minutes=1), plant.hire),
        Planned(_at(weekdays[3], time(16, 30)), plant.take_in_hand),
        Planned(_at(weekdays[3], time(9, 30)), plant.many_agents),
        Planned(_at(weekdays[2], time(14, 10)), plant.outside_assignment),
        Planned(_at(weekdays[2], time(15, 20)), plant.outside_service),
        Planned(_at(weekdays[1], time(11, 30)), plant.denial_burst),
        Planned(_at(weekdays[0], time(9, 5)), plant.volume),
        Planned(_at(weekdays[0], time(16, 50)), plant.export),
        Planned(sunday, plant.out_of_hours),
    ]


#: how long after its filing a demo request has surely had its first look (timeline.FIRST_LOOK_DAYS working days)
SETTLED = timedelta(days=10)


def _utc(moment: datetime | None) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives it back without its zone)."""
    if moment is None:
        return datetime.max.replace(tzinfo=UTC)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _username(suffix: str, commune: str) -> str:
    return f"demo.{suffix}.{commune}"


def _at(day: datetime, moment: time) -> datetime:
    return datetime.combine(day.date(), moment, PARIS).astimezone(UTC)


def _weekdays_before(until: datetime, count: int) -> list[datetime]:
    """The ``count`` weekdays before the day of ``until`` (Paris), the nearest first, as Paris midnights."""
    day = datetime.combine(until.astimezone(PARIS).date(), time(0), PARIS)
    found: list[datetime] = []
    while len(found) < count:
        day -= timedelta(days=1)
        if day.weekday() < 5:
            found.append(day)
    return found


def _last_sunday_night(until: datetime) -> datetime:
    """23:40 Paris time on the last Sunday before the day of ``until``."""
    day = until.astimezone(PARIS).date() - timedelta(days=1)
    while day.weekday() != 6:
        day -= timedelta(days=1)
    return datetime.combine(day, time(23, 40), PARIS).astimezone(UTC)


class _Planter:
    """Each method plants one kind of anomaly at the moment the clock is set to, and notes it in ``planted``."""

    def __init__(self, db: Database, registry: Registry, commune: Commune, other: str | None, planted: Planted):
        self.db, self.registry, self.commune, self.other, self.planted = db, registry, commune, other, planted
        self.office = Agents(db, registry)
        self.rng = random.Random(17)  # noqa: S311  (fictitious data, reproducible on purpose)
        planted.commune = commune.slug
        self.extra: list[Caller] = []
        self.one_service: Caller | None = None
        self.taken: list[str] = []

    # who -------------------------------------------------------------------------------------

    def hire(self) -> None:
        """The extra accounts, created at the start of the demo's weeks (audited like the others)."""
        slug = self.commune.slug
        readers = [Grant("agent", slug, None, "reader")]
        with self.db.session() as session:
            for suffix, name in EXTRA_AGENTS:
                staff = create_agent(session, _username(suffix, slug), f"{name} ({self.commune.name})", readers)
                self.extra.append(staff_caller(staff, readers))
            service = sorted(self.commune.services)[0]
            grant = [Grant("agent", slug, service, "instructor")]
            suffix, name = ONE_SERVICE_AGENT
            staff = create_agent(session, _username(suffix, slug), f"{name} ({self.commune.name})", grant)
            self.one_service = staff_caller(staff, grant)

    def _agents(self) -> list[Caller]:
        """The commune's two demo agents (instructeur, instructrice)."""
        return demo_agents(self.db, self.commune)

    def _requests(self, where: Callable[[ServiceRequest], bool] = lambda row: True) -> list[ServiceRequest]:
        """The commune's filed requests so far (in the clock's past), oldest first."""
        with self.db.read_session(commune=self.commune.slug) as session:
            rows = session.exec(
                select(ServiceRequest)
                .where(ServiceRequest.status != "draft", col(ServiceRequest.reference).is_not(None))
                .order_by(col(ServiceRequest.submitted_at), col(ServiceRequest.id))
            ).all()
        return [row for row in rows if where(row)]

    def _read(self, caller: Caller, reference: str, *, minutes: float = 0) -> bool:
        """Open a request's file, ``minutes`` after the previous act; False when refused (the refusal is recorded)."""
        if minutes:
            _wait(minutes)
        try:
            self.office.case(caller, self.commune.slug, reference)
        except RequestError:
            return False
        return True

    # what ------------------------------------------------------------------------------------

    def take_in_hand(self) -> None:
        """Agent A takes three requests in hand (an ordinary act: it sets up the next day's reads by agent B).

        Requests nobody has in hand and the ordinary activity has already
        looked at (filed more than :data:`SETTLED` ago) first: a newer one may
        get its first look before agent B's reads, and be given to someone
        else then; then newer ones, then ones a colleague has (a quiet week
        may leave fewer than three free).
        """
        agent = self._agents()[0]
        settled_before = clock.now() - SETTLED
        rows = list(reversed(self._requests(lambda row: row.assigned_to != agent.staff_id)))
        free = [row for row in rows if row.assigned_to is None]
        settled = [row for row in free if _utc(row.submitted_at) <= settled_before]
        others = [row for row in rows if row.assigned_to is not None]
        for row in [*settled, *(row for row in free if row not in settled), *others]:
            if len(self.taken) == 3:
                break
            try:
                self.office.assign(agent, self.commune.slug, row.reference or "", agent.staff_id, expected_version=None)
            except RequestError:
                continue
            self.taken.append(row.reference or "")
            _wait(2)

    def outside_assignment(self) -> None:
        agent_b = self._agents()[1]
        mine = {row.reference for row in self._requests(lambda row: row.assigned_to == self._agents()[0].staff_id)}
        read = [reference for reference in self.taken if reference in mine]
        for reference in read:
            self._read(agent_b, reference, minutes=4)
        self._note("outside-assignment", len(read) == 3)

    def outside_service(self) -> None:
        assert self.one_service is not None and self.one_service.principal is not None
        own = self.one_service.principal.grants[0].service
        others = self._requests(lambda row: row.service != own)[-3:]
        refused = [not self._read(self.one_service, row.reference or "", minutes=3) for row in others]
        self._note("outside-service", len(refused) == 3 and all(refused))

    def volume(self) -> None:
        agent_a = self._agents()[0]
        rows = self._requests(lambda row: row.assigned_to in (None, agent_a.staff_id)) or self._requests()
        if not rows:
            return self._note("volume", False)
        reads = [
            self._read(agent_a, rows[number % len(rows)].reference or "", minutes=3) for number in range(VOLUME_READS)
        ]
        self._note("volume", all(reads))

    def out_of_hours(self) -> None:
        agent_b = self._agents()[1]
        rows = self._requests()[-2:]
        reads = [self._read(agent_b, row.reference or "", minutes=4 * number) for number, row in enumerate(rows)]
        self._note("off-hours", len(reads) == 2 and all(reads))

    def denial_burst(self) -> None:
        if self.other is None:
            return self._note("denials", False)
        grants = [Grant("agent", self.other, None, "instructor")]
        with self.db.session() as session:
            staff = staff_accounts.find(session, _username("instructeur", self.other))
        if staff is None:
            return self._note("denials", False)
        stranger = staff_caller(staff, grants)
        rows = self._requests()
        refused = [
            not self._read(stranger, rows[number % len(rows)].reference or "", minutes=0.3)
            for number in range(BURST_DENIALS if rows else 0)
        ]
        self._note("denials", bool(refused) and all(refused))

    def many_agents(self) -> None:
        rows = self._requests(lambda row: row.subject is not None)
        if not rows:
            return self._note("many-agents", False)
        target = rows[len(rows) // 2].reference or ""
        reads = [
            self._read(agent, target, minutes=self.rng.randint(10, 40)) for agent in [*self.extra, *self._agents()]
        ]
        self._note("many-agents", all(reads))

    def export(self) -> None:
        agent_a = self._agents()[0]
        try:
            self.office.export_csv(agent_a, self.commune.slug, QueueFilter(status=None))
        except RequestError:
            return self._note("export", False)
        self._note("export", True)

    def _note(self, kind: str, done: bool) -> None:
        if done:
            self.planted.kinds.append(kind)


def _wait(minutes: float) -> None:
    """Move the clock on: the next act comes ``minutes`` later (inside a moment set back by the caller)."""
    clock.advance(timedelta(minutes=minutes))


def kinds(anomalies: Sequence[Anomaly] = ANOMALIES) -> list[str]:
    """The kinds of anomalies, in :data:`ANOMALIES`' order."""
    return [anomaly.kind for anomaly in anomalies]
