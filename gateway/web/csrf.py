"""CSRF protection for every state-changing request, through asgi-csrf.

The double-submit token is signed with the gateway's secret. Every page
POST is checked, even from a visitor with no cookie yet; API calls are
exempt only when they carry no cookie at all (a browser's cross-site request
always would) or an ``Authorization: Bearer`` header.

The token is bound to the session (OWASP's "synchronizer token" property on
top of the double submit): for a request carrying a session cookie, the token
asgi-csrf expects is derived from that cookie's session id with itsdangerous
(:func:`session_token`), whatever ``guichet_csrf`` cookie the browser sends.
Another visitor's cookie and token pair is worth nothing in this session, and
signing in (a new session id) makes every token given before it stale. A
visitor without a session (the sign-in forms, a service open without an
account) keeps asgi-csrf's own random token, bound to the ``guichet_csrf`` cookie.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable
from typing import Any

import asgi_csrf as asgi_csrf_module
from asgi_csrf import asgi_csrf
from itsdangerous import Signer, URLSafeSerializer
from python_multipart import FormParser
from starlette.requests import Request, cookie_parser
from starlette.routing import BaseRoute, Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.audit.builders import csrf_refused
from gateway.audit.events import ANONYMOUS
from gateway.audit.refusals import count_refusal
from gateway.identity import sessions
from gateway.services import Localized
from gateway.web.errors import error_response
from gateway.web.lookups import request_origin

logger = logging.getLogger(__name__)

COOKIE = "guichet_csrf"
#: asgi-csrf's signing namespace (itsdangerous salt) for the token
NAMESPACE = "guichet-csrf"
_SESSION_SALT = "guichet-csrf-session"

EXPIRED_FORM = Localized(
    "Le formulaire a expiré ou n'a pas été envoyé depuis ce site. Rechargez la page et envoyez-le à nouveau.",
    "The form has expired or was not sent from this site. Reload the page and send it again.",
)


class BackChannelRoute(Route):
    """A route called server to server, with its credentials in the body and no cookie (an OAuth token endpoint).

    No browser sends it a session, so there is nothing to forge: the CSRF check
    does not apply to it. The application collects these paths when it is built.
    """


def back_channel_paths(routes: Iterable[BaseRoute]) -> frozenset[str]:
    """The paths of the back-channel routes among ``routes``."""
    return frozenset(route.path for route in routes if isinstance(route, BackChannelRoute))


class _PagePaths:
    """Stands for asgi-csrf's ``always_protect`` set: every path but the API's and the back-channel ones."""

    def __init__(self, back_channel: frozenset[str]) -> None:
        self.back_channel = back_channel

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and not path.startswith("/api/") and path not in self.back_channel


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


def session_token(secret: bytes, session_id: str) -> str:
    """The CSRF token of one session: a keyed derivation of its id, in asgi-csrf's signed-token format."""
    derived = Signer(secret, salt=_SESSION_SALT).get_signature(session_id).decode()
    return URLSafeSerializer(secret.decode()).dumps(derived, salt=NAMESPACE)


class _BindToSession:
    """In front of asgi-csrf: a request with a session cookie shows it that session's token as its CSRF cookie.

    asgi-csrf then hands pages this token and compares the form field or the
    ``x-csrftoken`` header with it; it sets no cookie, since one was "sent".
    """

    def __init__(self, app: ASGIApp, secret: bytes) -> None:
        self.app = app
        self.secret = secret

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            token = self._token_for(scope)
            if token is not None:
                scope = {**scope, "headers": _with_csrf_cookie(scope["headers"], token)}
        await self.app(scope, receive, send)

    def _token_for(self, scope: Scope) -> str | None:
        header = b"; ".join(value for name, value in scope["headers"] if name == b"cookie")
        if not header:
            return None
        cookie = cookie_parser(header.decode("latin-1")).get(sessions.COOKIE)
        session_id = sessions.session_id_from_cookie(self.secret, cookie)
        return session_token(self.secret, session_id) if session_id is not None else None


def _with_csrf_cookie(headers: list[tuple[bytes, bytes]], token: str) -> list[tuple[bytes, bytes]]:
    """The headers with every ``guichet_csrf`` cookie the browser sent replaced by ``token``."""
    kept: list[bytes] = []
    for name, value in headers:
        if name == b"cookie":
            kept += [part.strip() for part in value.split(b";")
                     if part.strip() and part.strip().split(b"=", 1)[0].strip() != COOKIE.encode()]  # fmt: skip
    cookie = b"; ".join([*kept, f"{COOKIE}={token}".encode()])
    return [(name, value) for name, value in headers if name != b"cookie"] + [(b"cookie", cookie)]


#: the methods asgi-csrf lets through unchecked
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class _RoutedOnly:
    """A change no route would take (``PUT /healthz``, ``QUERY /``) goes straight to the router: 404 or 405.

    No handler runs, so there is nothing to protect; refusing it as a forged
    form (403, and an audit entry) told the client the wrong thing.

    An API call without a cookie also goes straight on: asgi-csrf lets it through
    unchecked (no cookie, not a page path), and an API answer is never a page
    asking for a token, so asgi-csrf would only have made and signed a token
    for nothing (a tenth of a millisecond per call).
    """

    def __init__(self, protected: ASGIApp, app: ASGIApp) -> None:
        self.protected = protected
        self.app = app
        self.routed: dict[tuple[str, str], bool] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (_api_without_cookie(scope) or not self._routed(scope)):
            await self.app(scope, receive, send)
            return
        await self.protected(scope, receive, send)

    def _routed(self, scope: Scope) -> bool:
        """Whether a route takes this change; remembered per method and path (routes do not change once built)."""
        if scope["method"] in SAFE_METHODS:
            return True
        key = (scope["method"], scope["path"])
        routed = self.routed.get(key)
        if routed is None:
            routed = _routed(scope)
            if len(self.routed) >= _ROUTED_MEMORY:  # paths carry references: keep the memory bounded
                self.routed.clear()
            self.routed[key] = routed
        return routed


#: method and path pairs whose routing is remembered
_ROUTED_MEMORY = 4096


def _api_without_cookie(scope: Scope) -> bool:
    return scope["path"].startswith("/api/") and not any(name == b"cookie" for name, _ in scope["headers"])


def _routed(scope: Scope) -> bool:
    routes: list[BaseRoute] = scope["app"].routes
    return any(route.matches(scope)[0] == Match.FULL for route in routes)


def csrf_middleware(
    app: ASGIApp, *, secret: bytes, secure_cookie: bool, back_channel: frozenset[str] = frozenset()
) -> ASGIApp:
    protected: ASGIApp = asgi_csrf(
        app,
        cookie_name=COOKIE,
        signing_secret=secret.decode(),
        signing_namespace=NAMESPACE,
        always_protect=_PagePaths(back_channel),
        cookie_secure=secure_cookie,
        cookie_samesite="Lax",
        send_csrf_failed=_refuse,
    )
    return _RoutedOnly(_BindToSession(protected, secret), app)
