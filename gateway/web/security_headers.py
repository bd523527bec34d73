"""Security headers on every response: a strict CSP and the usual companions.

The pages load nothing but the gateway's own stylesheet: no script, no font,
no frame, no request to any other host.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def security_headers(https: bool, form_action: Sequence[str] = ()) -> dict[str, str]:
    """``form_action``: other origins forms may lead to through redirects (the sign-in providers')."""
    policy = CONTENT_SECURITY_POLICY
    if form_action:
        policy = policy.replace("form-action 'self'", " ".join(("form-action 'self'", *form_action)))
    headers = {
        "Content-Security-Policy": policy + ("; upgrade-insecure-requests" if https else ""),
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }
    if https:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return headers


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, https: bool, form_action: Sequence[str] = ()) -> None:
        self.app = app
        self.headers = security_headers(https, form_action)
        #: the same, as the raw pairs a response carries (encoded once, not for every response)
        self.raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in self.headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", ()))
                present = {name.lower() for name, _value in raw}
                raw.extend(pair for pair in self.raw if pair[0] not in present)  # a response's own value wins
                if b"cache-control" not in present:
                    # pages may hold personal data: never cached; the stylesheet may be
                    cacheable = scope["path"].startswith("/static/")
                    raw.append((b"cache-control", b"public, max-age=3600" if cacheable else b"no-store"))
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, send_with_headers)
