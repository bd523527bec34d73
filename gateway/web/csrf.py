"""CSRF protection for every state-changing request, through asgi-csrf.

The double-submit token is signed with the gateway's secret. Every page
POST is checked, even from a visitor with no cookie yet; API calls are
exempt only when they carry no cookie at all (a browser's cross-site request
always would) or an ``Authorization: Bearer`` header.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

import asgi_csrf as asgi_csrf_module
from asgi_csrf import asgi_csrf
from python_multipart import FormParser
from starlette.requests import Request
from starlette.types import ASGIApp, Scope, Send

from gateway.audit.builders import csrf_refused
from gateway.audit.events import ANONYMOUS
from gateway.audit.refusals import count_refusal
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
    """Every refusal is counted; the first of its origin's minute enters the audit log (only the door knocked on).

    No body, no query string. Counted, not logged one by one: anyone can send
    these, and must not be able to grow the audit log at will (:mod:`gateway.audit.refusals`).
    """
    db = request.app.state.db
    event = csrf_refused(ANONYMOUS, resource=f"{request.method} {request.url.path}", origin=request_origin(request))

    def write() -> None:
        with db.session() as session:
            count_refusal(session, event)

    try:
        await db.run(write)
    except Exception:  # the request is refused either way; the operator must hear of the lost record
        logger.exception("could not record a CSRF denial in the audit log")


async def _no_body() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


class _TokenFormParser(FormParser):
    """The form parser asgi-csrf looks for the token with, in multipart bodies (file uploads).

    asgi-csrf 0.11 passes ``FileClass=`` to python-multipart's ``FormParser``,
    which newer python-multipart (0.0.26+, which fixes CVE-2026-40347) no longer
    accepts: every multipart POST failed with a 500 (simonw/asgi-csrf#38, fix
    proposed in #39). This takes the argument and, as asgi-csrf intends, refuses
    a file sent before the token. Remove it once asgi-csrf ships the fix.
    """

    def __init__(self, content_type: str, on_field: Any, _on_file: Any, *, boundary: Any, **_ignored: Any) -> None:
        def file_before_token(_file: object) -> None:
            raise asgi_csrf_module.FileBeforeToken

        super().__init__(content_type, on_field, file_before_token, boundary=boundary)


if "FileClass" not in inspect.signature(FormParser.__init__).parameters:
    asgi_csrf_module.FormParser = _TokenFormParser


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
