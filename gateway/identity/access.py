"""Access control decisions: deny by default, check in the route *and* where data is read.

Routes call :func:`require_citizen` or a staff check; the data layer
re-checks (commune-bound sessions in :mod:`gateway.db`). This module only
decides, by raising: :class:`SignInRequired` (someone not signed in),
:class:`ReauthenticationRequired`, :class:`AccessDenied`. It knows no page:
how those are answered (sign-in redirect or 401, 403 page or problem), and
the checks that record a denial in the audit log (``require_staff``,
``refuse_citizens``), are the HTTP side, in :mod:`gateway.web.access`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import HTTPConnection, Request

from gateway.identity.principal import Principal

REAUTH_AFTER = timedelta(minutes=5)


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


def require_recent_authentication(principal: Principal, *, now: datetime | None = None) -> None:
    if (now or datetime.now(UTC)) - principal.authenticated_at > REAUTH_AFTER:
        raise ReauthenticationRequired
