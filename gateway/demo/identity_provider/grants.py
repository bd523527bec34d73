"""authlib's authorization-code grant, OpenID Connect extension and PKCE, set up the FranceConnect way.

FranceConnect's rules on top of OAuth 2 and OpenID Connect: ``openid`` in the
scope, ``state`` and ``nonce`` both present and at least 32 characters,
``acr_values`` among the supported levels, client authentication by
``client_secret_post`` only, PKCE (optional) with S256 only, and ID tokens
signed ES256 carrying ``acr``, ``amr``, ``auth_time`` and ``nonce`` but no
identity claims (those come from ``/userinfo``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError, InvalidScopeError, OAuth2Error, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode
from joserfc.jwk import ECKey

from gateway.demo.identity_provider.clients import DemoClient
from gateway.demo.identity_provider.codes import ACCESS_TOKEN_LIFETIME, IssuedCode, hash_code, redeem_code, save_code
from gateway.demo.identity_provider.config import ProviderState
from gateway.demo.identity_provider.keys import ALGORITHM
from gateway.demo.identity_provider.people import Person, StaffPerson, person_in
from gateway.demo.identity_provider.tokens import pairwise_subject

ACR_VALUES = ("eidas1",)
#: FranceConnect asks for at least 32 random characters in each
MIN_STATE_LENGTH = MIN_NONCE_LENGTH = 32
#: what the code table can hold
MAX_NONCE_LENGTH = 200


def check_france_connect_rules(request: OAuth2Request) -> None:
    """What FranceConnect refuses in an authorization request that plain OpenID Connect allows."""
    data = request.payload.data
    if "openid" not in (scope_to_list(request.payload.scope) or []):
        raise InvalidScopeError("The scope must contain 'openid'.")
    for name, minimum in (("state", MIN_STATE_LENGTH), ("nonce", MIN_NONCE_LENGTH)):
        if len(data.get(name) or "") < minimum:
            raise InvalidRequestError(f"'{name}' is required and must be at least {minimum} characters long.")
    if len(data["nonce"]) > MAX_NONCE_LENGTH:
        raise InvalidRequestError(f"'nonce' must be at most {MAX_NONCE_LENGTH} characters long.")
    max_age = data.get("max_age")
    if max_age is not None and not (max_age.isascii() and max_age.isdigit() and len(max_age) <= 10):
        raise InvalidRequestError("'max_age' must be a number of seconds (0 or more).")
    acr_values = data.get("acr_values")
    if acr_values is not None and not set(acr_values.split()) & set(ACR_VALUES):
        raise InvalidRequestError(f"Unsupported 'acr_values'; supported: {' '.join(ACR_VALUES)}.")


class DemoCodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]  # authlib ships no type hints
    """Codes live in the database (see :mod:`.codes`); the access token is a JWT bound to its code."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post"]  # noqa: RUF012  (authlib's own attribute)
    server: ProviderState

    def validate_authorization_request(self) -> str:
        redirect_uri: str = super().validate_authorization_request()
        try:
            check_france_connect_rules(self.request)
        except OAuth2Error as error:
            error.redirect_uri = redirect_uri  # client and redirect_uri are known good: tell the client
            raise
        return redirect_uri

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        issued = IssuedCode(
            code_hash=hash_code(code),
            client_id=request.client.get_client_id(),
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope,
            nonce=data.get("nonce"),
            acr=ACR_VALUES[0],
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
            person=request.user.id,
            auth_time=datetime.now(UTC),
        )
        save_code(self.server.db, issued)

    def query_authorization_code(self, code: str, client: DemoClient) -> IssuedCode | None:
        # spent here, before redirect_uri and PKCE are checked: a code that fails them is gone too
        return redeem_code(self.server.db, code, client.client_id)

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        """Nothing to do: the code was marked used when redeemed, and its row revokes the token if replayed."""

    def authenticate_user(self, authorization_code: IssuedCode) -> Person | StaffPerson | None:
        client: DemoClient = self.request.client
        return person_in(client.commune, authorization_code.person)

    def generate_token(
        self,
        user: Person | StaffPerson | None = None,
        scope: str | None = None,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        assert user is not None
        client: DemoClient = self.request.client
        code: IssuedCode = self.request.authorization_code
        lifetime = int(ACCESS_TOKEN_LIFETIME.total_seconds())
        config = self.server.config
        access_token = config.signer.access_token(
            client_id=client.client_id,
            sub=pairwise_subject(config.secret_key, client.client_id, user.id),
            scope=scope or "",
            grant=code.code_hash,
            lifetime=lifetime,
        )
        return {"token_type": "Bearer", "access_token": access_token, "expires_in": lifetime, "scope": scope}


class S256CodeChallenge(CodeChallenge):  # type: ignore[misc]
    """PKCE, optional for this confidential client, and S256 only (never ``plain``, even by default)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012

    def validate_code_challenge(self, grant: DemoCodeGrant, redirect_uri: str) -> None:
        super().validate_code_challenge(grant, redirect_uri)
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256.")


class FranceConnectOpenIDCode(OpenIDCode):  # type: ignore[misc]
    """ID tokens signed ES256 with the provider's key, ``sub`` pairwise, ``aud`` the client id."""

    DEFAULT_EXPIRES_IN = int(ACCESS_TOKEN_LIFETIME.total_seconds())

    def __init__(self, provider: ProviderState) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        return False  # the nonce protects the relying party, which checks it; codes are single-use anyway

    def resolve_client_private_key(self, client: DemoClient) -> ECKey:
        return self.provider.config.signer.key

    def get_client_algorithm(self, client: DemoClient) -> str:
        return ALGORITHM

    def get_encode_header(self, client: DemoClient) -> dict[str, str]:
        return {"alg": ALGORITHM, "kid": self.provider.config.signer.kid}

    def get_client_claims(self, client: DemoClient) -> dict[str, Any]:
        return {"iss": self.provider.config.issuer, "aud": client.client_id}

    def get_authorization_code_claims(self, authorization_code: IssuedCode) -> dict[str, Any]:
        claims: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
        secret = self.provider.config.secret_key
        claims["sub"] = pairwise_subject(secret, authorization_code.client_id, authorization_code.person)
        return claims

    def generate_user_info(self, user: Person | StaffPerson, scope: str) -> dict[str, Any]:
        return {}  # identity claims are given by /userinfo only, as FranceConnect does
