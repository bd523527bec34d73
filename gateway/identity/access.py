"""Access control: deny by default, check in the route *and* where data is read, record every denial.

Routes call :func:`require_citizen` or :func:`require_staff`; the data layer
re-checks (commune-bound sessions in :mod:`gateway.db`). Someone not signed
in is sent to the right sign-in page (or gets 401 on the API); someone signed
in without the grant gets 403, and the denial enters the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from starlette.requests import HTTPConnection, Request
from starlette.responses import RedirectResponse, Response

from gateway.audit.builders import access_denied
from gateway.audit.events import ANONYMOUS
from gateway.audit.log import record
from gateway.identity.principal import Principal
from gateway.services import Localized
from gateway.web.errors import error_response, problem, wants_problem
from gateway.web.lookups import request_origin

REAUTH_AFTER = timedelta(minutes=5)

DENIED = Localized(
    "Votre compte n'a pas accès à cette page. Si vous pensez que c'est une erreur, adressez-vous à votre responsable.",
    "Your account has no access to this page. If you think this is a mistake, ask your supervisor.",
)


class SignInRequired(Exception):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(f"{kind} sign-in required")


class ReauthenticationRequired(Exception):
    """A sensitive staff action needs the password and code again."""


class AccessDenied(Exception):
    pass


def principal_of(connection: HTTPConnection) -> Principal | None:
    principal: Principal | None = connection.scope.get("state", {}).get("principal")
    return principal


def require_citizen(request: Request) -> Principal:
    principal = principal_of(request)
    if principal is None or not principal.is_citizen:
        raise SignInRequired("citizen")
    return principal


def require_staff_session(request: Request) -> Principal:
    """A staff member who passed both factors (whatever their grants)."""
    principal = principal_of(request)
    if principal is None or principal.kind != "staff" or principal.mfa_pending:
        raise SignInRequired("staff")
    return principal


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


def require_recent_authentication(principal: Principal, *, now: datetime | None = None) -> None:
    if (now or datetime.now(UTC)) - principal.authenticated_at > REAUTH_AFTER:
        raise ReauthenticationRequired


async def record_denial(
    request: Request, principal: Principal | None, *, role: str, commune: str | None = None, service: str | None = None
) -> None:
    """Every access-control denial enters the audit log, in a transaction of its own."""
    actor = principal.actor() if principal else ANONYMOUS
    event = access_denied(actor, role=role, resource=f"{request.method} {request.url.path}",
                          origin=request_origin(request), commune=commune, service=service)  # fmt: skip
    db = request.app.state.db

    def write() -> None:
        with db.session() as session:
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
