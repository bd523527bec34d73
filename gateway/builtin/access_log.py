"""A citizen's access log: every access to their data — when, which commune, which service, who, why.

In the spirit of Estonia's Data Tracker, except that here every access is
in it, since every access goes through the audit log. Agents appear by role
and commune, by name only where the commune's file says so. The citizen can
download the log as CSV or JSON; looking at it is itself recorded.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway import hookimpl
from gateway.api.openapi import json_response, operation, problem_response
from gateway.audit.builders import account_event
from gateway.audit.events import Actor, format_time, pseudonym
from gateway.audit.labels import ROLES, action_label
from gateway.audit.log import record
from gateway.identity.access import require_citizen
from gateway.identity.principal import Principal
from gateway.models import AuditEntry, Citizen, LocalAccount, StaffUser
from gateway.registry import Registry
from gateway.web.i18n import choose_locale
from gateway.web.lookups import registry_of, request_origin
from gateway.web.templating import render

PARIS = ZoneInfo("Europe/Paris")
LIMIT = 1000


@dataclass(frozen=True)
class Access:
    time: datetime
    commune: str
    service: str
    who: str
    what: str
    purpose: str
    outcome: str

    def as_dict(self) -> dict[str, str]:
        return {"time": format_time(self.time), "commune": self.commune, "service": self.service, "who": self.who,
                "what": self.what, "purpose": self.purpose, "outcome": self.outcome}  # fmt: skip


def subjects_of(session: Session, principal: Principal, secret_key: bytes) -> list[str]:
    """Every pseudonym the citizen's data is recorded under: their account, and their verified address."""
    citizen = session.get(Citizen, principal.user_id)
    assert citizen is not None
    subjects = [pseudonym(secret_key, "citizen", citizen.public_id)]
    email = citizen.email
    if citizen.issuer == "local":
        account = session.exec(select(LocalAccount).where(LocalAccount.citizen_id == citizen.id)).first()
        email = account.email if account is not None and account.email_verified_at is not None else None
    if email:
        subjects.append(pseudonym(secret_key, "email", email))
    return subjects


def _who(entry: AuditEntry, registry: Registry, session: Session, locale: str) -> str:
    role = ROLES.get(entry.actor_role)
    text = role(locale) if role else entry.actor_role
    commune = registry.communes.get(entry.commune or "")
    if commune is not None and entry.actor_role not in ("citizen", "anonymous", "system"):
        text += f" ({commune.name})" if locale == "en" else f" de {commune.name}"
        if commune.shows_agent_names and entry.actor_id.startswith("staff:") and entry.actor_id[6:].isdigit():
            staff = session.get(StaffUser, int(entry.actor_id[6:]))
            if staff is not None:
                text += f" : {staff.display_name}" if locale == "fr" else f": {staff.display_name}"
    return text


async def _load(request: Request) -> tuple[Principal, list[Access], str]:
    principal = require_citizen(request)
    locale = choose_locale(request)
    registry = registry_of(request)
    db = request.app.state.db

    def load() -> list[Access]:
        with db.session(all_communes=True) as session:
            subjects = subjects_of(session, principal, registry.settings.secret_key)
            entries = session.exec(
                select(AuditEntry)
                .where(col(AuditEntry.subject).in_(subjects))
                .order_by(col(AuditEntry.seq).desc())
                .limit(LIMIT)
            ).all()
            found = [_access(entry, registry, session, locale) for entry in entries]
            actor = principal.actor()
            purpose = "droit d'accès de la personne concernée (RGPD, article 15)"
            event = account_event("account.read", Actor(actor.id, "citizen"), resource="access-log",
                                  subject=subjects[0], purpose=purpose, origin=request_origin(request))  # fmt: skip
            record(session, event)
            return found

    found: list[Access] = await db.run(load)
    return principal, found, locale


def _access(entry: AuditEntry, registry: Registry, session: Session, locale: str) -> Access:
    commune = registry.communes.get(entry.commune or "")
    provided = registry.services.get(entry.service or "")
    return Access(
        time=entry.time,
        commune=commune.name if commune else "—",
        service=provided.definition.title(locale) if provided else (entry.service or "—"),
        who=_who(entry, registry, session, locale),
        what=action_label(entry.action)(locale),
        purpose=entry.purpose,
        outcome=entry.outcome,
    )


async def access_log_page(request: Request) -> Response:
    principal, found, _locale = await _load(request)
    shown = [(access, access.time.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")) for access in found]
    return render(request, "access_log.html", {"accesses": shown, "principal": principal})


async def access_log_csv(request: Request) -> Response:
    _principal, found, _locale = await _load(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["time", "commune", "service", "who", "what", "purpose", "outcome"])
    writer.writerows([list(access.as_dict().values()) for access in found])
    headers = {"Content-Disposition": 'attachment; filename="mon-journal-d-acces.csv"'}
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


async def access_log_json(request: Request) -> Response:
    _principal, found, _locale = await _load(request)
    headers = {"Content-Disposition": 'attachment; filename="mon-journal-d-acces.json"'}
    body = json.dumps({"accesses": [access.as_dict() for access in found]}, ensure_ascii=False)
    return Response(body, media_type="application/json", headers=headers)


@operation(
    summary="The signed-in citizen's access log",
    operationId="getMyAccessLog",
    responses={
        "200": json_response("Every recorded access to the citizen's data, newest first.", "AccessLog"),
        "401": problem_response("Not signed in as a citizen."),
    },
)
async def api_access_log(request: Request) -> Response:
    _principal, found, _locale = await _load(request)
    return JSONResponse({"accesses": [access.as_dict() for access in found]})


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return [
        Route("/mon-compte/acces", access_log_page, name="access_log"),
        Route("/mon-compte/acces.csv", access_log_csv, name="access_log_csv"),
        Route("/mon-compte/acces.json", access_log_json, name="access_log_json"),
        Route("/api/v1/me/access-log", api_access_log, name="api_access_log"),
    ]
