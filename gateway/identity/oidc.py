"""Sign-in with OpenID Connect, as a relying party (authorization code flow, FranceConnect v2 compatible).

The flow, and what each step checks:

1. **Start** (:func:`new_flow`, :meth:`RelyingParty.authorization_url`): fresh
   ``state`` and ``nonce`` (43 random characters each), a PKCE S256 challenge
   (always, whether the discovery document advertises it or not, unless the
   provider's settings say ``pkce = false``), ``acr_values`` when configured. They are
   kept in a signed, HttpOnly, ``SameSite=Lax`` cookie that lives 10 minutes
   (:func:`seal_flow`): the browser that started the flow is the only one
   holding them, so a code cannot be redeemed from another browser (its
   ``state`` would match no cookie), and no gateway process has to remember
   anything.
2. **Return**: the ``state`` matches the cookie's and is spent (a used one is
   remembered in the database until the flow would have expired, so a
   replayed callback is refused here, ``state-replayed``, without asking the
   provider again: :mod:`gateway.identity.spent_states`); the RFC 9207 ``iss``
   parameter, when sent, is the provider's issuer exactly, and it must be sent
   by a provider whose metadata says
   ``authorization_response_iss_parameter_supported``
   (:meth:`RelyingParty.check_response_issuer`). Then
   (:meth:`RelyingParty.complete`) the code is exchanged with
   ``client_secret_post`` (and the PKCE verifier); the ID token's signature is
   checked against the provider's JWKS (fetched again once on an unknown key
   id; an algorithm outside the provider's asymmetric ones is
   ``id-token-algorithm``), then ``iss`` exactly, ``aud``/``azp``, ``exp``/``iat``/``nbf``, the
   ``nonce`` and an ``acr`` at least as strong as asked. Userinfo is read as a
   signed JWT (``application/jwt``, checked the same way, with ``iss``,
   ``aud`` and ``sub`` matching) or as plain JSON for providers that send it,
   unless the provider is configured with ``signed_userinfo`` (the default
   for FranceConnect): then plain JSON is ``userinfo-unsigned``.
3. **Logout** (:meth:`RelyingParty.end_session_url`): the browser goes to the
   provider's ``end_session_endpoint`` with ``id_token_hint``, a ``state``
   and the registered ``post_logout_redirect_uri``.
4. **Re-authentication** of a signed-in agent (``Flow.reauth``): the same
   flow, with ``prompt=login`` and ``max_age=0`` added to the request; on
   return, beyond every check above, the ID token's ``auth_time`` must be
   present and no older than the flow's start (:mod:`gateway.identity.reauthentication`).

Every refusal is a :class:`LoginFailure` with a short reason code for the
audit log (never a token, never the provider's free text).

Why not authlib's Starlette client: it keeps ``state`` in Starlette's
``SessionMiddleware`` (a second session mechanism next to the gateway's
own), reads userinfo as JSON only, leaves ``acr`` and the userinfo's signature
unchecked, and imports authlib's httpx integration, which warns about httpx
being deprecated in favour of httpx2 — an error under the test suite's
``filterwarnings = error``, to be silenced only by hiding a real deprecation.
Here httpx and joserfc (which authlib itself uses) do the transport and the
JOSE work, authlib's core gives PKCE, and every check is written out below.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError, JoseError, UnsupportedAlgorithmError
from joserfc.jwk import KeySet

from gateway.identity.claims import EMAIL_VERIFIED
from gateway.identity.oidc_flows import Flow, same_secret
from gateway.identity.providers import Provider, released_claims
from gateway.services import Localized
from gateway.settings import is_loopback

if TYPE_CHECKING:  # httpx (with its command line's rich and click) is imported on the first call to a provider
    import httpx


#: signatures accepted on ID tokens and userinfo: asymmetric only (never "none", never HMAC with the client secret)
ASYMMETRIC_ALGORITHMS = ("ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA")
#: clock difference tolerated between the gateway and a provider
LEEWAY_SECONDS = 60
#: an ID token older than this when it reaches the gateway is refused (it was just issued)
MAX_ID_TOKEN_AGE_SECONDS = 600
#: how long a provider's metadata and keys are reused before being fetched again
CACHE_SECONDS = 3600
#: eIDAS levels of assurance, as FranceConnect names them: a higher level satisfies a lower request
ACR_LEVELS = {"eidas1": 1, "eidas2": 2, "eidas3": 3}


FAILED = Localized(
    "La connexion n'a pas abouti : la réponse du fournisseur d'identité n'a pas pu être vérifiée. "
    "Rien n'a été enregistré ; recommencez la connexion depuis le début.",
    "Signing in did not work: the identity provider's answer could not be verified. "
    "Nothing was saved; start signing in again from the beginning.",
)
UNREACHABLE = Localized(
    "Le fournisseur d'identité ne répond pas ou répond de façon inattendue. Réessayez dans quelques minutes, "
    "ou choisissez une autre façon de vous connecter.",
    "The identity provider does not answer, or answers unexpectedly. Try again in a few minutes, "
    "or choose another way to sign in.",
)


class LoginFailure(Exception):
    """A refused sign-in: ``reason`` is a short code for the audit log, ``message`` is for the person."""

    def __init__(self, reason: str, message: Localized = FAILED, *, status: int = 400) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message
        self.status = status


def _unreachable(reason: str) -> LoginFailure:
    return LoginFailure(reason, UNREACHABLE, status=502)


def error_code(value: str | None) -> str:
    """A provider's ``error`` parameter, fit for a reason code (anything odd becomes ``other``)."""
    if value and len(value) <= 40 and all(char.isascii() and (char.isalnum() or char == "_") for char in value):
        return value.lower()
    return "other"


# The provider's metadata ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Metadata:
    """The parts of a provider's discovery document the gateway uses, checked."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str | None
    jwks_uri: str
    end_session_endpoint: str | None
    id_token_algorithms: tuple[str, ...]
    userinfo_algorithms: tuple[str, ...]
    #: RFC 9207: the provider adds ``iss`` to its authorization responses, so one without it is refused
    iss_parameter_supported: bool

    @classmethod
    def parse(cls, document: Any, provider: Provider) -> Metadata:
        if not isinstance(document, dict):
            raise _unreachable("discovery-malformed")
        if document.get("issuer") != provider.issuer:  # OpenID Connect Discovery 1.0, §4.3: exactly
            raise LoginFailure("discovery-issuer", UNREACHABLE, status=502)
        endpoints: dict[str, str | None] = {}
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint",
                     "end_session_endpoint"):  # fmt: skip
            value = document.get(name)
            required = name in ("authorization_endpoint", "token_endpoint", "jwks_uri")
            if value is None and not required:
                endpoints[name] = None
                continue
            if not isinstance(value, str) or not _acceptable_url(value):
                raise _unreachable("discovery-endpoint")
            endpoints[name] = value
        for name in ("authorization_endpoint", "end_session_endpoint"):
            # the browser is sent there after a form: it must be the origin the pages' CSP allows
            value = endpoints[name]
            if value is not None and _origin(value) != provider.origin:
                raise _unreachable("discovery-endpoint-origin")
        algorithms = _algorithms(document.get("id_token_signing_alg_values_supported"), default=("RS256",))
        if not algorithms:
            raise _unreachable("discovery-algorithms")
        return cls(
            issuer=provider.issuer,
            authorization_endpoint=str(endpoints["authorization_endpoint"]),
            token_endpoint=str(endpoints["token_endpoint"]),
            userinfo_endpoint=endpoints["userinfo_endpoint"],
            jwks_uri=str(endpoints["jwks_uri"]),
            end_session_endpoint=endpoints["end_session_endpoint"],
            id_token_algorithms=algorithms,
            userinfo_algorithms=_algorithms(document.get("userinfo_signing_alg_values_supported"), default=algorithms),
            iss_parameter_supported=document.get("authorization_response_iss_parameter_supported") is True,
        )


def _acceptable_url(value: str) -> bool:
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and is_loopback(value)  # the demo provider, and tests


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _algorithms(value: Any, *, default: tuple[str, ...]) -> tuple[str, ...]:
    if not isinstance(value, list):
        return tuple(algorithm for algorithm in default if algorithm in ASYMMETRIC_ALGORITHMS)
    return tuple(algorithm for algorithm in value if algorithm in ASYMMETRIC_ALGORITHMS)


# What a successful sign-in yields -----------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who the provider vouched for: its ``sub``, the requested claims, and the ID token (for logout only)."""

    provider: Provider
    sub: str
    acr: str | None
    #: only the claims of the scopes asked for, string values only
    claims: dict[str, str]
    id_token: str
    #: when the person last authenticated at the provider (the ID token's ``auth_time``), if it said
    auth_time: float | None = None

    def __repr__(self) -> str:  # the ID token never ends up in a log line
        return f"Identity(provider={self.provider.key!r}, sub={self.sub!r}, acr={self.acr!r})"


def acr_satisfies(returned: Any, requested: str) -> bool:
    """Whether the ``acr`` returned is at least one of the levels asked for (eIDAS levels are ordered)."""
    if not isinstance(returned, str):
        return False
    wanted = requested.split()
    if returned in wanted:
        return True
    if returned in ACR_LEVELS and all(value in ACR_LEVELS for value in wanted):
        return ACR_LEVELS[returned] >= min(ACR_LEVELS[value] for value in wanted)
    return False


def _audience_ok(claims: dict[str, Any], client_id: str) -> bool:
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if client_id not in audiences:
        return False
    azp = claims.get("azp")
    if len(audiences) > 1 and azp != client_id:  # OpenID Connect Core §3.1.3.7, points 3 to 5
        return False
    return azp is None or azp == client_id


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def check_id_token_claims(claims: dict[str, Any], provider: Provider, flow: Flow, *, now: float | None = None) -> str:
    """Check an ID token's claims (its signature is already checked); return its ``sub``."""
    now = time.time() if now is None else now
    if claims.get("iss") != provider.issuer:
        raise LoginFailure("id-token-issuer")
    if not _audience_ok(claims, provider.client_id):
        raise LoginFailure("id-token-audience")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise LoginFailure("id-token-subject")
    expires, issued, not_before = _number(claims.get("exp")), _number(claims.get("iat")), claims.get("nbf")
    if expires is None or issued is None:
        raise LoginFailure("id-token-claims")
    if now > expires + LEEWAY_SECONDS:
        raise LoginFailure("id-token-expired")
    if issued > now + LEEWAY_SECONDS or now - issued > MAX_ID_TOKEN_AGE_SECONDS:
        raise LoginFailure("id-token-issued-at")
    nbf = _number(not_before)
    if not_before is not None and (nbf is None or nbf > now + LEEWAY_SECONDS):
        raise LoginFailure("id-token-not-yet-valid")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not same_secret(flow.nonce, nonce):
        raise LoginFailure("nonce-mismatch")
    if provider.acr_values:
        if claims.get("acr") is None:
            raise LoginFailure("acr-missing")
        if not acr_satisfies(claims.get("acr"), provider.acr_values):
            raise LoginFailure("acr-too-low")
    return sub


def kept_claims(scopes: tuple[str, ...], source: dict[str, Any]) -> dict[str, str]:
    """Only the claims of the scopes asked for, and only text values; ``email_verified`` kept as "true" when true."""
    wanted = released_claims(scopes)
    kept = {name: value for name, value in source.items()
            if name in wanted and isinstance(value, str) and len(value) <= 500}  # fmt: skip
    if "email" in kept and source.get(EMAIL_VERIFIED) is True:
        kept[EMAIL_VERIFIED] = "true"
    return kept


# The relying party ----------------------------------------------------------------------------------


class RelyingParty:
    """Talks to providers: metadata, code exchange, token and userinfo checks, logout URLs.

    Metadata and key sets are cached in memory for an hour: a cache only, every
    process fetches its own and nothing depends on it. Network calls go out
    through httpx (``transport`` lets tests route them elsewhere).
    """

    def __init__(self, *, timeout: float = 10.0, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.timeout = timeout
        self.transport = transport
        self._metadata: dict[str, tuple[float, Metadata]] = {}
        self._keys: dict[str, tuple[float, KeySet]] = {}

    def _client(self) -> httpx.AsyncClient:
        import httpx

        headers = {"User-Agent": "Guichet (OpenID Connect relying party)"}
        return httpx.AsyncClient(timeout=self.timeout, transport=self.transport, follow_redirects=False,
                                 headers=headers)  # fmt: skip

    async def _get(self, url: str, reason: str, **kwargs: Any) -> httpx.Response:
        import httpx

        try:
            async with self._client() as client:
                return await client.get(url, **kwargs)
        except httpx.HTTPError:
            raise _unreachable(reason) from None

    async def metadata(self, provider: Provider) -> Metadata:
        cached = self._metadata.get(provider.key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        response = await self._get(provider.discovery_url, "discovery-unreachable")
        if response.status_code != 200:
            raise _unreachable("discovery-unreachable")
        try:
            document = response.json()
        except ValueError:
            raise _unreachable("discovery-malformed") from None
        metadata = Metadata.parse(document, provider)
        self._metadata[provider.key] = (time.monotonic() + CACHE_SECONDS, metadata)
        return metadata

    async def authorization_url(self, provider: Provider, flow: Flow, redirect_uri: str) -> str:
        metadata = await self.metadata(provider)
        params = [
            ("response_type", "code"),
            ("client_id", provider.client_id),
            ("redirect_uri", redirect_uri),
            ("scope", " ".join(flow.asked(provider))),
            ("state", flow.state),
            ("nonce", flow.nonce),
        ]
        if provider.acr_values:
            params.append(("acr_values", provider.acr_values))
        if flow.reauth:  # OpenID Connect Core §3.1.2.1: authenticate again now, whatever session the provider holds
            params += [("prompt", "login"), ("max_age", "0")]
        if flow.verifier is not None:  # sent even when discovery does not advertise S256 (RFC 9700, §2.1.1)
            params += [("code_challenge", create_s256_code_challenge(flow.verifier)), ("code_challenge_method", "S256")]
        url: str = add_params_to_uri(metadata.authorization_endpoint, params)
        return url

    async def check_response_issuer(self, provider: Provider, iss: str | None) -> None:
        """RFC 9207: the callback's ``iss`` names this provider; it is required when the provider says it sends it.

        A mismatching ``iss`` is refused whether or not the provider advertises the parameter: the response
        then comes from (or on behalf of) another issuer, the mix-up attack the parameter exists to stop.
        """
        if iss is not None:
            if iss != provider.issuer:  # RFC 9207, §2.4: simple string comparison
                raise LoginFailure("iss-mismatch")
            return
        metadata = await self.metadata(provider)
        if metadata.iss_parameter_supported:
            raise LoginFailure("iss-missing")

    async def complete(self, provider: Provider, flow: Flow, code: str, redirect_uri: str) -> Identity:
        """Redeem the code and check everything; the identity, or :class:`LoginFailure`."""
        if provider.client_secret is None:
            raise LoginFailure("client-secret-missing", UNREACHABLE, status=502)
        metadata = await self.metadata(provider)
        tokens = await self._redeem(provider, metadata, flow, code, redirect_uri)
        id_token = tokens["id_token"]
        verified = await self._verify_jwt(provider, metadata, id_token, metadata.id_token_algorithms, "id-token")
        sub = check_id_token_claims(dict(verified.claims), provider, flow)
        claims: dict[str, Any] = dict(verified.claims)
        if metadata.userinfo_endpoint is not None:
            claims = await self._userinfo(provider, metadata, tokens["access_token"], sub)
        acr = verified.claims.get("acr")
        kept = kept_claims(flow.asked(provider), claims)
        auth_time = _number(verified.claims.get("auth_time"))
        return Identity(provider, sub, acr if isinstance(acr, str) else None, kept, id_token, auth_time)

    async def _redeem(self, provider: Provider, metadata: Metadata, flow: Flow, code: str,
                      redirect_uri: str) -> dict[str, str]:  # fmt: skip
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": provider.client_id,
            "client_secret": str(provider.client_secret),
        }
        if flow.verifier is not None:
            form["code_verifier"] = flow.verifier
        import httpx

        try:
            async with self._client() as client:
                response = await client.post(metadata.token_endpoint, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError:
            raise _unreachable("token-unreachable") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            error = body.get("error") if isinstance(body, dict) else None
            raise LoginFailure(f"token-refused-{error_code(error if isinstance(error, str) else None)}")
        if not isinstance(body, dict):
            raise LoginFailure("token-malformed")
        access_token, id_token, token_type = body.get("access_token"), body.get("id_token"), body.get("token_type")
        if not isinstance(id_token, str) or not id_token:
            raise LoginFailure("token-no-id-token")
        if not isinstance(access_token, str) or not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise LoginFailure("token-malformed")
        return {"access_token": access_token, "id_token": id_token}

    async def _key_set(self, provider: Provider, metadata: Metadata, *, refresh: bool = False) -> KeySet:
        cached = self._keys.get(provider.key)
        if cached is not None and cached[0] > time.monotonic() and not refresh:
            return cached[1]
        response = await self._get(metadata.jwks_uri, "jwks-unreachable")
        try:
            if response.status_code != 200:
                raise ValueError(response.status_code)
            keys = KeySet.import_key_set(response.json())
        except (ValueError, TypeError, KeyError, JoseError):
            raise _unreachable("jwks-malformed") from None
        self._keys[provider.key] = (time.monotonic() + CACHE_SECONDS, keys)
        return keys

    async def _verify_jwt(
        self, provider: Provider, metadata: Metadata, token: str, algorithms: Sequence[str], what: str
    ) -> jwt.Token:
        """Check a JWT's signature against the provider's keys, fetching them again once on an unknown key id."""
        refreshed = False
        while True:
            keys = await self._key_set(provider, metadata, refresh=refreshed)
            try:
                return jwt.decode(token, keys, algorithms=list(algorithms))
            except InvalidKeyIdError:
                if refreshed:
                    raise LoginFailure(f"{what}-key-unknown") from None
                refreshed = True  # the provider may have rotated its keys since they were cached
            except BadSignatureError:
                raise LoginFailure(f"{what}-signature") from None
            except UnsupportedAlgorithmError:  # "none", HMAC, or an algorithm the provider does not sign with
                raise LoginFailure(f"{what}-algorithm") from None
            except (JoseError, ValueError, TypeError, KeyError):
                raise LoginFailure(f"{what}-malformed") from None

    async def _userinfo(self, provider: Provider, metadata: Metadata, access_token: str, sub: str) -> dict[str, Any]:
        assert metadata.userinfo_endpoint is not None
        headers = {"Authorization": f"Bearer {access_token}", "Accept": "application/jwt, application/json"}
        response = await self._get(metadata.userinfo_endpoint, "userinfo-unreachable", headers=headers)
        if response.status_code != 200:
            raise LoginFailure("userinfo-refused")
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type == "application/jwt":
            verified = await self._verify_jwt(provider, metadata, response.text.strip(), metadata.userinfo_algorithms,
                                              "userinfo")  # fmt: skip
            claims = dict(verified.claims)
            if claims.get("iss") != provider.issuer:
                raise LoginFailure("userinfo-issuer")
            if not _audience_ok(claims, provider.client_id):
                raise LoginFailure("userinfo-audience")
            expires = _number(claims.get("exp"))
            if claims.get("exp") is not None and (expires is None or time.time() > expires + LEEWAY_SECONDS):
                raise LoginFailure("userinfo-expired")
        elif media_type == "application/json":
            if provider.signed_userinfo:
                raise LoginFailure("userinfo-unsigned")
            try:
                claims = response.json()
            except ValueError:
                raise LoginFailure("userinfo-malformed") from None
            if not isinstance(claims, dict):
                raise LoginFailure("userinfo-malformed")
        else:
            raise LoginFailure("userinfo-malformed")
        if not isinstance(claims.get("sub"), str) or not hmac.compare_digest(claims["sub"].encode(), sub.encode()):
            raise LoginFailure("userinfo-subject")
        return claims

    async def end_session_url(
        self, provider: Provider, id_token: str, state: str, post_logout_redirect_uri: str
    ) -> str:
        """Where to send the browser to sign out at the provider; :class:`LoginFailure` if it cannot be said."""
        metadata = await self.metadata(provider)
        if metadata.end_session_endpoint is None:
            raise LoginFailure("no-end-session-endpoint")
        params = [("id_token_hint", id_token), ("state", state), ("post_logout_redirect_uri", post_logout_redirect_uri)]
        url: str = add_params_to_uri(metadata.end_session_endpoint, params)
        return url
