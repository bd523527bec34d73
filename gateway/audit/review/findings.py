"""What deserves a look in one week of one commune's entries: each finder takes the entries and returns findings.

The finders are pure: :mod:`gateway.audit.review.collect` reads the entries
within the auditor's scope and what the finders compare them with (the
staff's grants, the requests' assignments, each agent's usual volume), so
each rule can be read, and tested, on its own. A finding's ``key`` is made of
what it is about (the agent, the person's pseudonym, the day, the first
entry), never of its count, so it keeps its name as entries are added.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from gateway.audit.review.periods import paris
from gateway.settings.audit_review import AuditReviewSettings

#: the kinds of finding, in the order the review shows them
KINDS = ("outside-service", "outside-assignment", "volume", "off-hours", "denials", "many-agents", "export")
#: staff roles whose accesses to personal data the review looks at (auditors are reviewed by their own entries)
STAFF_ROLES = ("agent", "supervisor", "administrator")
#: the roles that may reach a request of a service (a supervisor's or administrator's grant names the commune)
SERVICE_ROLES = ("agent", "supervisor", "administrator")
K = TypeVar("K")
LISTINGS = ("request.list", "request.search", "request.export")


@dataclass(frozen=True)
class Row:
    """One audit entry, as the finders read it (the sealed entry's fields)."""

    seq: int
    time: datetime
    commune: str | None
    service: str | None
    actor_id: str
    actor_role: str
    action: str
    resource: str
    subject: str | None
    origin: str
    outcome: str


@dataclass(frozen=True)
class GrantLine:
    role: str
    commune: str | None
    service: str | None


@dataclass(frozen=True)
class Finding:
    kind: str
    commune: str | None
    key: str
    seqs: tuple[int, ...]
    first: datetime
    last: datetime
    actor: str | None = None
    subject: str | None = None
    #: the numbers and names the finding's sentence cites (see :mod:`gateway.audit.review.words`)
    detail: Mapping[str, str | int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.seqs)


@dataclass(frozen=True)
class Assignment:
    """Whom a request is assigned to now (a staff id, or None), and since when (None: no assignment line)."""

    staff_id: int | None
    since: datetime | None


@dataclass(frozen=True)
class WeekFacts:
    """What the finders compare one commune's week with."""

    settings: AuditReviewSettings
    #: staff id -> their grants (today's: a grant withdrawn since is no longer there)
    grants: Mapping[int, Sequence[GrantLine]]
    #: (commune, reference) -> to whom the request is assigned now, and since when
    assignments: Mapping[tuple[str, str], Assignment]
    #: actor id -> their request accesses in the weeks before, per week on average
    usual: Mapping[str, float]


def staff_id(actor_id: str) -> int | None:
    prefix, _, number = actor_id.partition(":")
    return int(number) if prefix == "staff" and number.isdigit() else None


def is_staff_access(row: Row) -> bool:
    """A staff member reached a person's data (a request, a queue showing it), and was let in."""
    return (
        row.outcome == "success"
        and row.subject is not None
        and row.actor_role in STAFF_ROLES
        and staff_id(row.actor_id) is not None
        and not row.action.startswith("audit.")
    )


def is_request_access(row: Row) -> bool:
    """A staff member opened or acted on one request (a list of the queue is not counted)."""
    return is_staff_access(row) and row.resource.startswith("request/") and row.action not in LISTINGS


def _finding(
    kind: str,
    commune: str | None,
    key: str,
    rows: Sequence[Row],
    *,
    actor: str | None = None,
    subject: str | None = None,
    **detail: str | int,
) -> Finding:
    return Finding(
        kind=kind,
        commune=commune,
        key=f"{kind}:{key}"[:200],
        seqs=tuple(row.seq for row in rows),
        first=rows[0].time,
        last=rows[-1].time,
        actor=actor,
        subject=subject,
        detail=detail,
    )


def _by(rows: Iterable[Row], key: Callable[[Row], K]) -> dict[K, list[Row]]:
    groups: dict[K, list[Row]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups


def _covers(grant: GrantLine, commune: str | None, service: str | None) -> bool:
    return (
        grant.role in SERVICE_ROLES
        and grant.commune in (None, commune)
        and (grant.service is None or grant.service == service)
    )


def _tried_a_request(row: Row) -> bool:
    """A staff member tried to open or act on one request and was refused."""
    return (
        row.outcome == "denied"
        and row.actor_role in STAFF_ROLES
        and staff_id(row.actor_id) is not None
        and row.resource.startswith("request/")
        and row.action not in LISTINGS
    )


def outside_service(commune: str | None, rows: Sequence[Row], facts: WeekFacts) -> list[Finding]:
    """Requests an agent opened, or tried to open, in services their grants (today) do not cover.

    A refused attempt counts when the agent holds a role in that commune: one of its agents reaching beyond their
    service (someone with no role there is the denials' concern).
    """

    def outside(row: Row) -> bool:
        grants = facts.grants.get(staff_id(row.actor_id) or -1, ())
        if any(_covers(grant, row.commune, row.service) for grant in grants):
            return False
        if is_request_access(row):
            return True
        return _tried_a_request(row) and any(grant.commune in (None, row.commune) for grant in grants)

    found_rows = [row for row in rows if outside(row)]
    return [
        _finding(
            "outside-service",
            commune,
            str(actor),
            found,
            actor=actor,
            services=", ".join(sorted({row.service or "—" for row in found})),
        )
        for actor, found in _by(found_rows, lambda row: row.actor_id).items()
    ]


def outside_assignment(commune: str | None, rows: Sequence[Row], facts: WeekFacts) -> list[Finding]:
    """Requests an agent (not a supervisor) opened while they were assigned to a colleague.

    Only the current assignment is known (the history names the assignee in words), so an access before the
    request's last assignment is not judged: who held it then is not known.
    """

    def elsewhere(row: Row) -> bool:
        if row.actor_role != "agent" or row.commune is None or not is_request_access(row):
            return False
        assigned = facts.assignments.get((row.commune, row.resource.removeprefix("request/")))
        if assigned is None or assigned.staff_id is None or assigned.staff_id == staff_id(row.actor_id):
            return False
        return assigned.since is None or row.time >= assigned.since

    found_rows = [row for row in rows if elsewhere(row)]
    return [
        _finding(
            "outside-assignment", commune, str(actor), found, actor=actor, requests=len({row.resource for row in found})
        )
        for actor, found in _by(found_rows, lambda row: row.actor_id).items()
    ]


def volume(commune: str | None, rows: Sequence[Row], facts: WeekFacts) -> list[Finding]:
    """An agent's week far above their own usual week and their peers' this week."""
    per_agent = _by((row for row in rows if is_request_access(row)), lambda row: row.actor_id)
    counts = {actor: len(found) for actor, found in per_agent.items()}
    settings, findings = facts.settings, []
    for actor, found in per_agent.items():
        peers = [count for other, count in counts.items() if other != actor]
        peer_median = statistics.median(peers) if peers else 0.0
        usual = max(facts.usual.get(str(actor), 0.0), float(peer_median))
        if len(found) >= settings.volume_min_accesses and len(found) >= settings.volume_factor * usual:
            findings.append(
                _finding(
                    "volume",
                    commune,
                    str(actor),
                    found,
                    actor=actor,
                    usual=round(usual),
                    own=round(facts.usual.get(str(actor), 0.0)),
                    peers=round(peer_median),
                )
            )
    return findings


def off_hours(commune: str | None, rows: Sequence[Row], facts: WeekFacts) -> list[Finding]:
    """Staff reaching personal data outside the commune's working hours, per agent and day (Europe/Paris)."""
    spans = facts.settings.working_hours

    def outside(row: Row) -> bool:
        local = paris(row.time)
        return not any(span.covers(local.weekday(), local.time()) for span in spans)

    late = [row for row in rows if is_staff_access(row) and outside(row)]
    groups = _by(late, lambda row: (row.actor_id, paris(row.time).date().isoformat()))
    return [
        _finding("off-hours", commune, f"{actor}:{day}", found, actor=actor, day=day)
        for (actor, day), found in groups.items()
    ]


def _caller(row: Row) -> str:
    """Who was refused: a signed-in caller by id, a visitor by where they came from."""
    return row.actor_id if row.actor_role != "anonymous" else f"{row.actor_id}@{row.origin}"


def denial_bursts(commune: str | None, rows: Sequence[Row], facts: WeekFacts) -> list[Finding]:
    """At least ``denial_burst_count`` refusals to one caller within ``denial_burst_minutes``, one finding per burst."""
    size, window = facts.settings.denial_burst_count, timedelta(minutes=facts.settings.denial_burst_minutes)
    findings = []
    for caller, refused in _by((row for row in rows if row.outcome == "denied"), _caller).items():
        refused.sort(key=lambda row: row.seq)
        in_burst = [False] * len(refused)
        for first in range(len(refused) - size + 1):
            if refused[first + size - 1].time - refused[first].time <= window:
                in_burst[first : first + size] = [True] * size
        burst: list[Row] = []
        for index, row in enumerate(refused):
            if in_burst[index] and burst and row.time - burst[-1].time > window:
                findings.append(_burst(commune, str(caller), burst))
                burst = []
            if in_burst[index]:
                burst.append(row)
        if burst:
            findings.append(_burst(commune, str(caller), burst))
    return findings


def _burst(commune: str | None, caller: str, burst: list[Row]) -> Finding:
    return _finding(
        "denials",
        commune,
        f"{caller}:{burst[0].seq}",
        burst,
        actor=burst[0].actor_id,
        minutes=max(1, round((burst[-1].time - burst[0].time).total_seconds() / 60)),
    )


def many_agents(commune: str | None, rows: Sequence[Row], facts: WeekFacts) -> list[Finding]:
    """One person's requests opened by many different agents in the week."""
    findings = []
    for subject, found in _by((row for row in rows if is_request_access(row)), lambda row: row.subject).items():
        agents = {row.actor_id for row in found}
        if len(agents) >= facts.settings.agents_per_person:
            findings.append(_finding("many-agents", commune, str(subject), found, subject=subject, agents=len(agents)))
    return findings


def exports(commune: str | None, rows: Sequence[Row], facts: WeekFacts) -> list[Finding]:
    """Every export of personal data by staff or auditors, per person exporting and day."""
    exported = [
        row
        for row in rows
        if row.action.endswith(".export")
        and row.outcome == "success"
        and row.actor_role not in ("citizen", "anonymous", "system")
    ]
    groups = _by(exported, lambda row: (row.actor_id, paris(row.time).date().isoformat()))
    return [
        _finding(
            "export",
            commune,
            f"{actor}:{day}",
            found,
            actor=actor,
            day=day,
            people=len({row.subject for row in found if row.subject}),
        )
        for (actor, day), found in groups.items()
    ]


FINDERS = (outside_service, outside_assignment, volume, off_hours, denial_bursts, many_agents, exports)


def find(commune: str | None, rows: Sequence[Row], facts: WeekFacts) -> list[Finding]:
    """Every finding of one commune's week (``rows`` in log order), in the order the review shows them."""
    found = [finding for finder in FINDERS for finding in finder(commune, rows, facts)]
    return sorted(found, key=lambda finding: (KINDS.index(finding.kind), finding.first, finding.key))
