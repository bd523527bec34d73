"""The HTTP side of access control: checks that record their denials, and the answers to the access exceptions.

The decisions are :mod:`gateway.identity.access`'s. Here a denial enters the
audit log with the request's method, path and origin; someone not signed in
is sent to the right sign-in page (or gets 401 on the API); someone signed in
without the grant gets 403.
"""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gateway.audit.log import record
from gateway.audit.refusals import count_refusal
from gateway.identity.access import AccessDenied, SignInRequired, principal_of, require_staff_session
from gateway.identity.denials import Refused, denial_events
from gateway.identity.principal import Principal
from gateway.services import Localized
from gateway.web.errors import error_response, problem, wants_problem
from gateway.web.lookups import database_of, registry_of, request_origin

DENIED = Localized(
    "Votre compte n'a pas accès à cette page. Si vous pensez que c'est une erreur, adressez-vous à votre responsable.",
    "Your account has no access to this page. If you think this is a mistake, ask your supervisor.",
)


async def refuse_citizens(request: Request, role: str, *, commune: str | None = None) -> None:
    """A signed-in citizen on a staff page is refused outright (403), and the attempt recorded."""
    principal = principal_of(request)
    if principal is not None and principal.is_citizen:
        await record_denial(request, principal, role=role, commune=commune)
        raise AccessDenied


async def require_staff(
    request: Request, role: str, *, commune: str | None = None, service: str | None = None, level: str | None = None
) -> Principal:
    """The signed-in staff member, if one of their grants covers ``role`` there; else sign-in or 403."""
    await refuse_citizens(request, role, commune=commune)
    principal = require_staff_session(request)
    if not principal.can(role, commune=commune, service=service, level=level):
        await record_denial(request, principal, role=role, commune=commune, service=service)
        raise AccessDenied
    return principal


async def record_denial(
    request: Request, principal: Principal | None, *, role: str, commune: str | None = None, service: str | None = None
) -> None:
    """Every access-control denial enters the audit log, in a transaction of its own: one entry per commune concerned.

    The resource is the door knocked on, ``<METHOD> <path>`` (clipped to the audit field's length), which
    says the action tried. ``commune`` comes from the URL, so only an existing commune is named: an unknown
    slug, however long, is refused all the same and recorded without it.
    """
    refused = Refused(role=role, resource=f"{request.method} {request.url.path}", origin=request_origin(request),
                      commune=commune, service=service)  # fmt: skip
    events = denial_events(principal, refused, communes=registry_of(request).communes)
    db = database_of(request)

    def write() -> None:
        with db.session() as session:
            for event in events:
                if principal is None:  # anyone can send these: counted, one entry per origin and minute
                    count_refusal(session, event)
                else:
                    record(session, event)

    await db.run(write)


async def sign_in_required_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    if wants_problem(request.scope):
        response: Response = problem(401, "Authentication required", "Sign in, or send a valid API token.")
        response.headers["WWW-Authenticate"] = 'Bearer realm="guichet"'
        return response
    page = "/agents/connexion" if exc.kind == "staff" else "/connexion"
    return RedirectResponse(f"{page}?suite={quote(request.url.path)}", status_code=303)


async def reauthentication_handler(request: Request, exc: Exception) -> Response:
    if wants_problem(request.scope):
        return problem(403, "Recent authentication required", "Sign in again before this action.")
    return RedirectResponse(f"/agents/reauthentification?suite={quote(request.url.path)}", status_code=303)


async def access_denied_handler(request: Request, exc: Exception) -> Response:
    return error_response(request, 403, detail=DENIED)
