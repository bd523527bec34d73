"""The demo provider as an authlib ``AuthorizationServer``: grants, userinfo and end-session wired together.

A provider is built per request from the immutable :class:`ProviderConfig`
(issuer, key, clients) and the database: it holds nothing between requests,
so any number of gateway processes serve the same flows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from authlib.oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidRequestError, OAuth2Error, OAuth2Request, ResourceProtector
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oidc.rpinitiated import EndSessionEndpoint, EndSessionRequest
from starlette.responses import Response

from gateway.db import Database
from gateway.demo.identity_provider.adapter import to_response
from gateway.demo.identity_provider.clients import DemoClient
from gateway.demo.identity_provider.codes import ACCESS_TOKEN_LIFETIME, IssuedCode, redeemed_code
from gateway.demo.identity_provider.config import ProviderConfig
from gateway.demo.identity_provider.grants import DemoCodeGrant, FranceConnectOpenIDCode, S256CodeChallenge
from gateway.demo.identity_provider.keys import ALGORITHM, public_jwks
from gateway.demo.identity_provider.people import Person, StaffPerson, person_in
from gateway.demo.identity_provider.tokens import pairwise_subject
from gateway.identity.claims import SCOPE_CLAIMS

SCOPES_SUPPORTED = ("openid", *SCOPE_CLAIMS)


class DemoProvider(AuthorizationServer):  # type: ignore[misc]  # authlib ships no type hints
    def __init__(self, config: ProviderConfig, db: Database) -> None:
        super().__init__(scopes_supported=list(SCOPES_SUPPORTED))
        self.config = config
        self.db = db
        self.register_grant(DemoCodeGrant, [FranceConnectOpenIDCode(self), S256CodeChallenge(required=False)])
        self.register_endpoint(DemoEndSession)

    # What authlib asks of a framework integration ------------------------------

    def query_client(self, client_id: str) -> DemoClient | None:
        return self.config.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Access tokens are self-contained JWTs: nothing to store."""

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request  # the routes read the Starlette request themselves (see adapter.py)

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        return to_response(status, body, headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signals: nothing listens."""

    # Userinfo -------------------------------------------------------------------

    def userinfo_response(self, request: OAuth2Request) -> Response:
        """The granted claims as an ES256-signed JWT (``application/jwt``), as FranceConnect answers."""
        protector = ResourceProtector()
        protector.register_token_validator(AccessTokenValidator(self))
        try:
            token: GrantedToken = protector.validate_request(["openid"], request)
        except OAuth2Error as error:
            response: Response = self.handle_error_response(request, error)
            return response
        person = token.person
        now = int(time.time())
        claims = {
            "iss": self.config.issuer,
            "aud": token.code.client_id,
            "sub": pairwise_subject(self.config.secret_key, token.code.client_id, person.id),
            "iat": now,
            "exp": now + int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            **person.claims(token.code.scope.split()),
        }
        return Response(self.config.signer.sign(claims), media_type="application/jwt")


@dataclass(frozen=True)
class GrantedToken:
    """A checked access token and the code it came from (its scope and person are read from there)."""

    code: IssuedCode
    person: Person | StaffPerson

    def is_expired(self) -> bool:
        return False  # exp was checked with the signature

    def is_revoked(self) -> bool:
        return False  # a revoked token's code row is gone, so it never gets this far

    def get_scope(self) -> str:
        return self.code.scope


class AccessTokenValidator(BearerTokenValidator):  # type: ignore[misc]
    def __init__(self, provider: DemoProvider) -> None:
        super().__init__()
        self.provider = provider

    def authenticate_token(self, token_string: str) -> GrantedToken | None:
        claims = self.provider.config.signer.access_token_claims(token_string)
        if claims is None:
            return None
        code = redeemed_code(self.provider.db, str(claims["jti"]))
        if code is None or code.client_id != claims["client_id"]:
            return None
        client = self.provider.query_client(code.client_id)
        person = person_in(client.commune, code.person) if client is not None else None
        return GrantedToken(code, person) if person is not None else None


class DemoEndSession(EndSessionEndpoint):  # type: ignore[misc]
    """RP-initiated logout: the provider keeps no session, so logging out is only the redirect back."""

    server: DemoProvider

    def get_server_jwks(self) -> dict[str, Any]:
        return public_jwks(self.server.config.signer.key)

    def get_algorithms(self) -> list[str]:
        return [ALGORITHM]

    def validate_request(self, request: OAuth2Request) -> EndSessionRequest:
        validated: EndSessionRequest = super().validate_request(request)
        claims = validated.id_token_claims
        if claims is not None and claims.get("iss") != self.server.config.issuer:
            raise InvalidRequestError("'id_token_hint' was not issued by this provider.")
        return validated

    def end_session(self, end_session_request: EndSessionRequest) -> None:
        """Nothing to end: every sign-in asks again which person to be."""
