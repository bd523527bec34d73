"""Find out who is calling, once per request: session cookie, or API token on the API.

The principal (or None) is put in ``scope["state"]["principal"]`` for routes
to read through :func:`gateway.identity.access.principal_of`. A request with
neither cookie nor token costs nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from http.cookies import SimpleCookie

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.identity.principal import Principal
from gateway.identity.sessions import COOKIE, load_principal, session_id_from_cookie
from gateway.identity.tokens import check_token, note_use


class IdentityMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["principal"] = await self._principal(scope)
        await self.app(scope, receive, send)

    async def _principal(self, scope: Scope) -> Principal | None:
        headers = dict(scope.get("headers") or [])
        registry = scope["app"].state.registry
        db = scope["app"].state.db
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        if authorization.startswith("Bearer ") and scope.get("path", "").startswith("/api/"):
            token = authorization[len("Bearer ") :].strip()

            def by_token() -> Principal | None:
                now = datetime.now(UTC)
                with db.read_session() as session:  # waits for no writer
                    check = check_token(session, token, now=now)
                if check is None:
                    return None
                if check.use_is_stale(now):
                    with db.session() as session:
                        note_use(session, check.token_id, now)
                return check.principal

            found: Principal | None = await db.run(by_token)
            return found
        cookie_header = headers.get(b"cookie")
        if not cookie_header:
            return None
        cookies = SimpleCookie()
        try:
            cookies.load(cookie_header.decode("latin-1"))
        except Exception:
            return None
        morsel = cookies.get(COOKIE)
        session_id = session_id_from_cookie(registry.settings.secret_key, morsel.value if morsel else None)
        if session_id is None:
            return None

        def by_session() -> Principal | None:
            with db.session() as session:
                return load_principal(session, session_id)

        principal: Principal | None = await db.run(by_session)
        return principal
