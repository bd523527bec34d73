"""Drawing one week's review within the communes an auditor may see, and keeping their marks.

The commune filter is applied here, in the queries, whatever the caller
asked for: a commune auditor's review never reads another commune's
entries, nor syndicate-wide ones (``communes`` is never None for them).
Each commune is reviewed with its own settings; entries of no commune (a
refused sign-in, an administrator's act) with the defaults.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from gateway.audit.review.findings import STAFF_ROLES, Assignment, Finding, GrantLine, Row, WeekFacts, find, staff_id
from gateway.audit.review.periods import Week
from gateway.models import AuditEntry, AuditReviewMark, RequestEvent, ServiceRequest, StaffRole
from gateway.settings.audit_review import AuditReviewSettings

_ENTRY = AuditEntry.__table__  # type: ignore[attr-defined]
_MARK = AuditReviewMark.__table__  # type: ignore[attr-defined]
_COLUMNS = (
    "seq",
    "time",
    "commune",
    "service",
    "actor_id",
    "actor_role",
    "action",
    "resource",
    "subject",
    "origin",
    "outcome",
)
NOTE_MAX = 2000


@dataclass(frozen=True)
class Mark:
    note: str
    reviewed_by: str
    reviewed_at: datetime


@dataclass(frozen=True)
class Review:
    week: Week
    #: the communes reviewed (None: the whole syndicate, entries of no commune included)
    communes: frozenset[str] | None
    findings: tuple[Finding, ...]
    #: (commune, finding key) -> the marks on it, oldest first
    marks: dict[tuple[str | None, str], list[Mark]]

    def marks_of(self, finding: Finding) -> list[Mark]:
        return self.marks.get((finding.commune, finding.key), [])

    def finding(self, commune: str | None, key: str) -> Finding | None:
        return next((found for found in self.findings if found.commune == commune and found.key == key), None)


def _in_scope(statement: Any, column: Any, communes: frozenset[str] | None) -> Any:
    return statement if communes is None else statement.where(column.in_(sorted(communes)))


def _rows(session: Session, week: Week, communes: frozenset[str] | None) -> list[Row]:
    statement = select(*(_ENTRY.c[name] for name in _COLUMNS)).where(
        _ENTRY.c.time >= week.start, _ENTRY.c.time < week.end
    )
    statement = _in_scope(statement, _ENTRY.c.commune, communes).order_by(_ENTRY.c.seq)
    rows = []
    for found in session.execute(statement):
        values = dict(zip(_COLUMNS, found, strict=True))
        moment = values["time"]
        values["time"] = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        rows.append(Row(**values))
    return rows


def _usual(session: Session, week: Week, communes: frozenset[str] | None, weeks: int) -> dict[tuple[str, str], float]:
    """(commune, actor id) -> request accesses per week over the ``weeks`` weeks before ``week``."""
    statement = (
        select(_ENTRY.c.commune, _ENTRY.c.actor_id, func.count())
        .where(
            _ENTRY.c.time >= week.start - timedelta(weeks=weeks),
            _ENTRY.c.time < week.start,
            _ENTRY.c.outcome == "success",
            _ENTRY.c.subject.is_not(None),
            _ENTRY.c.actor_role.in_(STAFF_ROLES),
            _ENTRY.c.resource.like("request/%"),
            _ENTRY.c.action.not_in(("request.list", "request.search", "request.export")),
        )
        .group_by(_ENTRY.c.commune, _ENTRY.c.actor_id)
    )
    statement = _in_scope(statement, _ENTRY.c.commune, communes)
    return {(commune, actor): count / weeks for commune, actor, count in session.execute(statement)}


def _grants(session: Session, ids: set[int]) -> dict[int, list[GrantLine]]:
    found: dict[int, list[GrantLine]] = defaultdict(list)
    if ids:
        for grant in session.scalars(select(StaffRole).where(StaffRole.staff_id.in_(sorted(ids)))):  # type: ignore[attr-defined]
            found[grant.staff_id].append(GrantLine(grant.role, grant.commune, grant.service))
    return found


def _assignments(session: Session, rows: Sequence[Row]) -> dict[tuple[str, str], Assignment]:
    """The requests agents opened: to whom each is assigned now, and since when (its last assignment line)."""
    wanted = {
        (row.commune, row.resource.removeprefix("request/"))
        for row in rows
        if row.commune and row.resource.startswith("request/") and row.actor_role == "agent"
    }
    found: dict[tuple[str, str], Assignment] = {}
    request, event = ServiceRequest.__table__, RequestEvent.__table__  # type: ignore[attr-defined]
    for commune in {commune for commune, _ in wanted}:
        references = sorted(reference for other, reference in wanted if other == commune)
        for start in range(0, len(references), 500):
            since = (
                select(func.max(event.c.at))
                .where(event.c.request_id == request.c.id, event.c.kind == "assignment")
                .scalar_subquery()
            )
            statement = select(request.c.reference, request.c.assigned_to, since).where(
                request.c.commune == commune, request.c.reference.in_(references[start : start + 500])
            )
            for reference, assigned, moment in session.execute(statement):
                when = moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment
                found[(commune, reference)] = Assignment(assigned, when)
    return found


def _marks(session: Session, week: Week, communes: frozenset[str] | None) -> dict[tuple[str | None, str], list[Mark]]:
    statement = _in_scope(select(AuditReviewMark).where(_MARK.c.week == week.label), _MARK.c.commune, communes)
    marks: dict[tuple[str | None, str], list[Mark]] = defaultdict(list)
    for mark in session.scalars(statement.order_by(_MARK.c.id)):
        when = mark.reviewed_at if mark.reviewed_at.tzinfo else mark.reviewed_at.replace(tzinfo=UTC)
        marks[(mark.commune, mark.finding)].append(Mark(mark.note, mark.reviewed_by, when))
    return dict(marks)


def draw(
    session: Session,
    week: Week,
    communes: frozenset[str] | None,
    settings_of: Callable[[str | None], AuditReviewSettings],
) -> Review:
    """The week's findings within ``communes`` (None: the whole syndicate), each with the marks it has."""
    rows = _rows(session, week, communes)
    per_commune: dict[str | None, list[Row]] = defaultdict(list)
    for row in rows:
        per_commune[row.commune].append(row)
    grants = _grants(session, {number for row in rows if (number := staff_id(row.actor_id)) is not None})
    assignments = _assignments(session, rows)
    findings: list[Finding] = []
    usual_over: dict[int, dict[tuple[str, str], float]] = {}
    for commune in sorted(per_commune, key=lambda slug: slug or ""):
        settings = settings_of(commune)
        weeks = settings.baseline_weeks
        if weeks not in usual_over:
            usual_over[weeks] = _usual(session, week, communes, weeks)
        usual = {actor: count for (where, actor), count in usual_over[weeks].items() if where == commune}
        facts = WeekFacts(settings=settings, grants=grants, assignments=assignments, usual=usual)
        findings.extend(find(commune, per_commune[commune], facts))
    return Review(week, communes, tuple(findings), _marks(session, week, communes))


class NoSuchFinding(LookupError):
    """The finding to mark is not in the week's review within the auditor's communes."""


def add_mark(
    session: Session, review: Review, *, commune: str | None, key: str, note: str, reviewed_by: str, now: datetime
) -> Finding:
    """Mark a finding of ``review`` as reviewed with ``note``; the caller records the act in the audit log."""
    finding = review.finding(commune, key)
    if finding is None:
        raise NoSuchFinding(key)
    session.add(
        AuditReviewMark(
            commune=commune, week=review.week.label, finding=key, note=note, reviewed_by=reviewed_by, reviewed_at=now
        )
    )
    return finding
