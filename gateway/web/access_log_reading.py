"""A citizen's access log, read for the pages and the API alike: every access to their data — when, where, who, why.

In the spirit of Estonia's Data Tracker, except that here every access is
in it, since every access goes through the audit log. Agents appear by role
and commune, by name only where the commune's file says so. Looking at the
log is itself recorded.

The entries one act wrote are read as one line (:mod:`gateway.web.access_log_acts`):
each :class:`Act` keeps every entry, and the downloads and the API still list
every entry, each with the number of its act.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select
from starlette.requests import Request

from gateway.audit.builders import account_event
from gateway.audit.events import Actor, format_time
from gateway.audit.labels import ROLES, SOMEONE_ELSE, action_label, listing_label
from gateway.audit.log import record
from gateway.audit.purposes import purpose_text
from gateway.identity.access import require_citizen
from gateway.identity.principal import Principal
from gateway.identity.subjects import citizen_subjects
from gateway.models import AuditEntry, Citizen, ServiceRequest, StaffUser
from gateway.registry import Registry
from gateway.web.access_log_acts import group, representative
from gateway.web.i18n import choose_locale
from gateway.web.lookups import registry_of, request_origin

LIMIT = 1000


@dataclass(frozen=True)
class Access:
    """One access to the citizen's data, in words they can read."""

    time: datetime
    commune: str
    service: str
    who: str
    what: str
    purpose: str
    outcome: str
    #: the number of the act that wrote it (1: the oldest act read)
    act: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"time": format_time(self.time), "commune": self.commune, "service": self.service, "who": self.who,
                "what": self.what, "purpose": self.purpose, "outcome": self.outcome, "act": self.act}  # fmt: skip


@dataclass(frozen=True)
class Act:
    """One act on the citizen's data, as one line: the entry that names it, and every entry it wrote."""

    main: Access
    entries: tuple[Access, ...]  # newest first, like the log

    @property
    def time(self) -> datetime:
        return self.main.time


def entries_of(acts: list[Act]) -> list[Access]:
    """Every entry of ``acts``, newest first: what the downloads and the API give."""
    return [access for act in acts for access in act.entries]


def subjects_of(session: Session, principal: Principal, secret_key: bytes) -> list[str]:
    """Every pseudonym the signed-in citizen's data is recorded under (:mod:`gateway.identity.subjects`)."""
    citizen = session.get(Citizen, principal.user_id)
    assert citizen is not None
    return citizen_subjects(session, citizen, secret_key)


def _who(entry: AuditEntry, registry: Registry, session: Session, locale: str, reader: str) -> str:
    """Who acted, in words: by role, and by commune (and name) for staff, except for refused attempts.

    A refusal is filed under the commune that was reached for, which is not
    necessarily the person's own: it is told by role only. ``reader`` is the
    citizen's audit id, so another citizen refused on their request is not "you".
    """
    if entry.action == "access.denied" and entry.actor_role == "citizen" and entry.actor_id != reader:
        return SOMEONE_ELSE(locale)
    role = ROLES.get(entry.actor_role)
    text = role(locale) if role else entry.actor_role
    if entry.action == "access.denied":
        return text
    commune = registry.communes.get(entry.commune or "")
    if commune is not None and entry.actor_role not in ("citizen", "anonymous", "system"):
        text += f" ({commune.name})" if locale == "en" else f" de {commune.name}"
        if commune.shows_agent_names and entry.actor_id.startswith("staff:") and entry.actor_id[6:].isdigit():
            staff = session.get(StaffUser, int(entry.actor_id[6:]))
            if staff is not None:
                text += f" : {staff.display_name}" if locale == "fr" else f": {staff.display_name}"
    return text


async def load_access_log(request: Request) -> tuple[Principal, list[Act], str]:
    """The signed-in citizen, the acts of the newest accesses to their data (at most ``LIMIT`` entries, newest
    first) and the locale, recorded as read."""
    principal = require_citizen(request)
    locale = choose_locale(request)
    registry = registry_of(request)
    db = request.app.state.db

    def load() -> list[Act]:
        with db.session(all_communes=True) as session:
            subjects = subjects_of(session, principal, registry.settings.secret_key)
            entries = session.exec(
                select(AuditEntry)
                .where(col(AuditEntry.subject).in_(subjects))
                .order_by(col(AuditEntry.seq).desc())
                .limit(LIMIT)
            ).all()
            actor = principal.actor()
            found = _acts(session, list(reversed(entries)), registry, locale, actor.id)
            purpose = "droit d'accès de la personne concernée (RGPD, article 15)"
            event = account_event("account.read", Actor(actor.id, "citizen"), resource="access-log",
                                  subject=subjects[0], purpose=purpose, origin=request_origin(request))  # fmt: skip
            record(session, event)
            return found

    found: list[Act] = await db.run(load)
    return principal, found, locale


def _acts(session: Session, entries: list[AuditEntry], registry: Registry, locale: str, reader: str) -> list[Act]:
    """``entries`` (oldest first) as acts, newest first, each entry numbered with its act."""
    drafts = [entry.resource.partition("/")[2] for entry in entries if entry.resource.startswith("draft/")]
    filed = session.exec(
        select(ServiceRequest.public_id, ServiceRequest.reference).where(col(ServiceRequest.public_id).in_(drafts))
    ).all() if drafts else []  # fmt: skip
    references = {public_id: reference for public_id, reference in filed if reference}
    acts = []
    for number, gathered in enumerate(group(entries, references), start=1):
        main = representative(gathered)
        shown = [replace(_access(entry, registry, session, locale, reader), act=number) for entry in gathered]
        acts.append(Act(main=shown[gathered.index(main)], entries=tuple(reversed(shown))))
    return list(reversed(acts))


def _access(entry: AuditEntry, registry: Registry, session: Session, locale: str, reader: str) -> Access:
    commune = registry.communes.get(entry.commune or "")
    provided = registry.services.get(entry.service or "")
    commune_name = commune.name if commune else "—"
    what = listing_label(entry.action, commune_name, entry.actor_role, locale) or action_label(entry.action)(locale)
    return Access(
        time=entry.time,
        commune=commune_name,
        service=provided.definition.title(locale) if provided else (entry.service or "—"),
        who=_who(entry, registry, session, locale, reader),
        what=what,
        purpose=purpose_text(entry.purpose, provided.definition.purpose if provided else None, locale),
        outcome=entry.outcome,
    )
