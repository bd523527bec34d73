"""The session cookie: HttpOnly, SameSite=Lax, Secure over HTTPS, signed id only."""

from __future__ import annotations

from starlette.responses import Response

from gateway.identity.sessions import COOKIE, LIFETIMES, cookie_value
from gateway.settings import Settings


def set_session_cookie(response: Response, settings: Settings, session_id: str) -> None:
    response.set_cookie(
        COOKIE,
        cookie_value(settings.secret_key, session_id),
        max_age=int(max(lifetime.absolute for lifetime in LIFETIMES.values()).total_seconds()),
        httponly=True,
        secure=settings.https,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(COOKIE, httponly=True, secure=settings.https, samesite="lax", path="/")
