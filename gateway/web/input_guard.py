"""Refuse malformed cookies, headers and form bodies with a clear 400, before the CSRF check reads them.

asgi-csrf parses the ``Cookie`` header and form bodies itself and raises on
what it cannot read (a cookie named ``$x``, bytes that are not UTF-8, a
multipart body without a boundary, a token that is not ASCII): every route,
``/healthz`` included, answered 500 and the connection was dropped. This
middleware sits in front of it, reads what it would read the same way, and
answers a page or problem document saying what is wrong; what it lets
through, the parsers behind it read without failing.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.services import Localized
from gateway.web.errors import error_response
from gateway.web.form_bodies import (
    MULTIPART,
    NO_BOUNDARY,
    canonical_content_type,
    form_kind,
    multipart_problem,
    urlencoded_problem,
)

BAD_COOKIE = Localized(
    "Votre navigateur a envoyé un cookie illisible pour ce site. Supprimez les cookies de ce site, puis réessayez.",
    "Your browser sent a cookie this site cannot read. Delete this site's cookies, then try again.",
)
BAD_TOKEN_HEADER = Localized(
    "L'en-tête X-CSRFToken ne peut contenir que des caractères ASCII.",
    "The X-CSRFToken header may hold ASCII characters only.",
)


def cookie_problem(headers: list[tuple[bytes, bytes]]) -> Localized | None:
    """A ``Cookie`` header that is not UTF-8 or that the standard library's parser refuses (as asgi-csrf uses it)."""
    for name, value in headers:
        if name != b"cookie":
            continue
        try:
            SimpleCookie().load(value.decode("utf-8"))
        except (UnicodeDecodeError, CookieError):
            return BAD_COOKIE
    return None


def header_problem(headers: list[tuple[bytes, bytes]]) -> Localized | None:
    if any(name == b"x-csrftoken" and not value.isascii() for name, value in headers):
        return BAD_TOKEN_HEADER
    return cookie_problem(headers)


class InputGuardMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = list(scope["headers"])
        problem = header_problem(headers)
        if problem is not None:
            await _refuse(scope, receive, send, problem)
            return
        content_type = dict(headers).get(b"content-type")
        kind = form_kind(content_type) if content_type else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        media, boundary = kind
        if media == MULTIPART and boundary is None:
            await _refuse(scope, receive, send, NO_BOUNDARY)
            return
        messages, body = await _read_body(receive)
        if body is None:  # the client went away
            return
        problem = multipart_problem(body, boundary) if boundary else urlencoded_problem(body)
        if problem is not None:
            await _refuse(scope, receive, send, problem)
            return
        canonical = canonical_content_type(media, boundary)
        scope = {**scope, "headers": [(n, canonical if n == b"content-type" else v) for n, v in headers]}
        await self.app(scope, _replay(messages, receive), send)


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """Every body message (the body limit in front bounds them), and the body; None if the client left."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return messages, None
        messages.append(message)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


async def _refuse(scope: Scope, receive: Receive, send: Send, reason: Localized) -> None:
    response = error_response(Request(scope, receive), 400, detail=reason)
    await response(scope, receive, send)
