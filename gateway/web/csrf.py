"""CSRF protection for every state-changing request, through asgi-csrf.

The double-submit token is signed with the gateway's secret. Every page
POST is checked, even from a visitor with no cookie yet; API calls are
exempt only when they carry no cookie at all (a browser's cross-site request
always would) or an ``Authorization: Bearer`` header.
"""

from __future__ import annotations

import logging
from typing import Any

from asgi_csrf import asgi_csrf
from starlette.requests import Request
from starlette.types import ASGIApp, Scope, Send

from gateway.audit.events import ANONYMOUS, AuditEvent
from gateway.audit.log import record
from gateway.services import Localized
from gateway.web.errors import error_response
from gateway.web.lookups import request_origin

logger = logging.getLogger(__name__)

COOKIE = "guichet_csrf"

EXPIRED_FORM = Localized(
    "Le formulaire a expiré ou n'a pas été envoyé depuis ce site. Rechargez la page et envoyez-le à nouveau.",
    "The form has expired or was not sent from this site. Reload the page and send it again.",
)


#: back-channel endpoints, called server to server with a client secret in the body and no cookie
BACK_CHANNEL_PATHS = frozenset({"/demo-idp/api/v2/token"})


class _PagePaths:
    """Stands for asgi-csrf's ``always_protect`` set: every path but the API's and the back-channel ones."""

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and not path.startswith("/api/") and path not in BACK_CHANNEL_PATHS


async def _refuse(scope: Scope, send: Send, _reason: Any) -> None:
    request = Request(scope)
    await _record_denial(request)
    response = error_response(request, 403, detail=EXPIRED_FORM)
    await response(scope, _no_body, send)


async def _record_denial(request: Request) -> None:
    """Every access-control denial enters the audit log (no body, no query string: only the door knocked on)."""
    db = request.app.state.db
    event = AuditEvent(
        action="access.csrf-refused",
        actor_id=ANONYMOUS.id,
        actor_role=ANONYMOUS.role,
        resource=f"{request.method} {request.url.path}"[:200],
        purpose="protection contre la falsification de requête intersite (CSRF)",
        origin=request_origin(request),
        outcome="denied",
    )

    def write() -> None:
        with db.session() as session:
            record(session, event)

    try:
        await db.run(write)
    except Exception:  # the request is refused either way; the operator must hear of the lost record
        logger.exception("could not record a CSRF denial in the audit log")


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def csrf_middleware(app: ASGIApp, *, secret: bytes, secure_cookie: bool) -> ASGIApp:
    protected: ASGIApp = asgi_csrf(
        app,
        cookie_name=COOKIE,
        signing_secret=secret.decode(),
        signing_namespace="guichet-csrf",
        always_protect=_PagePaths(),
        cookie_secure=secure_cookie,
        cookie_samesite="Lax",
        send_csrf_failed=_refuse,
    )
    return protected
