"""Who is calling, in the terms the service layer needs (:class:`~gateway.requests.caller.Caller`), and filing for them.

Every HTTP door builds its caller here: a citizen with their identity, a
staff member with their grants, or anonymous; from where (the door and the
client address) and in which language.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from starlette.requests import Request

from gateway.audit.events import ANONYMOUS
from gateway.identity.access import principal_of
from gateway.identity.local_accounts import ISSUER as LOCAL_ISSUER
from gateway.models import Citizen
from gateway.requests.caller import Caller
from gateway.requests.family import FiledFamily, file_family_together
from gateway.requests.filing import Filed, Submission, file_together
from gateway.requests.rules import ServiceRules
from gateway.services import CitizenIdentity
from gateway.web.i18n import choose_locale
from gateway.web.lookups import registry_of, request_origin


def identity_of(citizen: Citizen) -> CitizenIdentity:
    """The claims a service may prefill from; ``verified`` only when a federated provider vouched for them."""
    claims = citizen.claims or {}

    def claim(name: str) -> str | None:
        value = claims.get(name)
        return str(value) if isinstance(value, str | int) and str(value) else None

    return CitizenIdentity(
        given_name=citizen.given_name,
        family_name=citizen.family_name,
        email=citizen.email,
        birthdate=claim("birthdate"),
        birthplace=claim("birthplace"),
        birthcountry=claim("birthcountry"),
        gender=claim("gender"),
        verified=citizen.issuer != LOCAL_ISSUER,
    )


async def caller_of(request: Request) -> Caller:
    """The caller of this HTTP request: a citizen with their identity, a staff member, or anonymous."""
    origin, locale = request_origin(request), choose_locale(request)
    principal = principal_of(request)
    if principal is None:
        return Caller(actor=ANONYMOUS, origin=origin, locale=locale)
    if not principal.is_citizen:
        return Caller(actor=principal.actor(), origin=origin, locale=locale, principal=principal)
    db = request.app.state.db

    def load() -> Citizen | None:
        with db.read_session() as session:  # a read: waits for no writer
            found: Citizen | None = session.get(Citizen, principal.user_id)
            return found

    citizen: Citizen | None = await db.run(load)
    identity = identity_of(citizen) if citizen is not None else None
    return Caller(
        actor=principal.actor(),
        origin=origin,
        locale=locale,
        citizen_id=principal.user_id,
        citizen_public_id=principal.handle,
        identity=identity,
    )


async def file_from(request: Request, rules: ServiceRules, raw: Mapping[str, object], *, submission_key: str) -> Filed:
    """File a request coming through a page or the API, with the rules this HTTP request resolved, in the next batch."""
    caller = await caller_of(request)
    state = request.app.state
    sent = Submission(raw, submission_key)
    return await file_together(state.db, state.writer, registry_of(request), rules, caller, sent)


async def file_family_from(
    request: Request,
    rules: ServiceRules,
    shared: Mapping[str, object],
    members: Sequence[Mapping[str, object]],
    *,
    submission_key: str,
) -> FiledFamily:
    """File a family (one request per member) coming through a page or the API, all in one member of the next batch."""
    caller = await caller_of(request)
    state = request.app.state
    return await file_family_together(
        state.db, state.writer, registry_of(request), rules, caller, shared, members, submission_key
    )
