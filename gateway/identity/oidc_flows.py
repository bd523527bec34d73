"""The sign-in and sign-out flows an OpenID Connect round trip carries in the browser, in signed cookies.

A flow holds the ``state``, ``nonce`` and PKCE verifier of one sign-in (or a
signed-in agent's re-authentication) and where to go back to; it is sealed
with the gateway's secret (itsdangerous) and lives ten minutes. The callback
opens it and compares its secrets in constant time (:func:`same_secret`).
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, URLSafeTimedSerializer

from gateway.identity.providers import Provider

FLOW_COOKIE = "guichet_oidc"
FLOW_COOKIE_PATH = "/connexion"
FLOW_LIFETIME = timedelta(minutes=10)
LOGOUT_COOKIE = "guichet_oidc_logout"
LOGOUT_COOKIE_PATH = "/deconnexion"
LOGIN_CALLBACK_PATH = "/connexion/retour"
LOGOUT_CALLBACK_PATH = "/deconnexion/retour"

_FLOW_SALT = "guichet-oidc-flow"
_LOGOUT_SALT = "guichet-oidc-logout"


# The flow, bound to the browser -------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    """What the browser that started a sign-in carries back to the callback (in a signed cookie)."""

    provider: str
    state: str
    nonce: str
    #: PKCE code verifier; None only when the provider's settings turn PKCE off
    verifier: str | None
    #: where to go once signed in (a path of this site)
    next: str
    #: the scopes asked (the provider's base ones plus what the service started from needs); empty: the base ones
    scopes: tuple[str, ...] = ()
    #: a signed-in agent confirming who they are (``prompt=login``, ``max_age=0``), not a sign-in
    reauth: bool = False
    #: when the flow started (seconds since the epoch): a re-authentication must be no older
    started: int = 0

    def asked(self, provider: Provider) -> tuple[str, ...]:
        return self.scopes or provider.scopes


def new_flow(provider: Provider, next_path: str, scopes: tuple[str, ...] = (), *, reauth: bool = False) -> Flow:
    return Flow(
        provider=provider.key,
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        verifier=secrets.token_urlsafe(64) if provider.pkce else None,
        next=next_path,
        scopes=scopes,
        reauth=reauth,
        started=int(time.time()),
    )


def seal_flow(secret_key: bytes, flow: Flow) -> str:
    data = {"p": flow.provider, "s": flow.state, "n": flow.nonce, "v": flow.verifier, "x": flow.next,
            "c": list(flow.scopes), "r": flow.reauth, "t": flow.started}  # fmt: skip
    return URLSafeTimedSerializer(secret_key, salt=_FLOW_SALT).dumps(data)


def open_flow(secret_key: bytes, value: str | None, *, max_age: timedelta = FLOW_LIFETIME) -> Flow | None:
    """The flow in a cookie, or None when it is missing, forged, malformed or older than ``max_age``."""
    if not value:
        return None
    try:
        data = URLSafeTimedSerializer(secret_key, salt=_FLOW_SALT).loads(value, max_age=int(max_age.total_seconds()))
    except BadSignature:
        return None
    if not isinstance(data, dict):
        return None
    scopes = data.get("c", [])
    if not isinstance(scopes, list) or not all(isinstance(scope, str) for scope in scopes):
        return None
    try:
        flow = Flow(provider=data["p"], state=data["s"], nonce=data["n"], verifier=data["v"], next=data["x"],
                    scopes=tuple(scopes), reauth=data.get("r") is True, started=data.get("t", 0))  # fmt: skip
    except KeyError:
        return None
    if not isinstance(flow.started, int) or isinstance(flow.started, bool):
        return None
    texts = (flow.provider, flow.state, flow.nonce, flow.next)
    if not all(isinstance(text, str) for text in texts) or not isinstance(flow.verifier, str | None):
        return None
    return flow


@dataclass(frozen=True)
class LogoutFlow:
    """The ``state`` sent to the provider's end-session endpoint, and whose sign-out it was."""

    provider: str
    state: str


def seal_logout(secret_key: bytes, flow: LogoutFlow) -> str:
    return URLSafeTimedSerializer(secret_key, salt=_LOGOUT_SALT).dumps({"p": flow.provider, "s": flow.state})


def open_logout(secret_key: bytes, value: str | None) -> LogoutFlow | None:
    if not value:
        return None
    try:
        data = URLSafeTimedSerializer(secret_key, salt=_LOGOUT_SALT).loads(
            value, max_age=int(FLOW_LIFETIME.total_seconds())
        )
    except BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("p"), str) or not isinstance(data.get("s"), str):
        return None
    return LogoutFlow(provider=data["p"], state=data["s"])


def same_secret(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a state or nonce."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())
