"""Signed JWTs the provider hands out: access tokens and userinfo answers, plus pairwise subjects.

Access tokens are self-contained ES256 JWTs (``typ: at+jwt``, RFC 9068), so
any gateway process can check one with the public key alone; an ID token or
a userinfo answer (``typ: JWT``) is never accepted in their place.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from gateway.demo.identity_provider.keys import ALGORITHM

ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105  (a media type, not a secret)


def pairwise_subject(secret_key: bytes, client_id: str, person_id: str) -> str:
    """A stable ``sub`` per person and client, shaped like FranceConnect's (64 hex digits and ``v1``)."""
    message = b"demo-idp-sub\x00" + client_id.encode() + b"\x00" + person_id.encode()
    return hmac.new(secret_key, message, hashlib.sha256).hexdigest() + "v1"


@dataclass(frozen=True)
class Signer:
    """Signs and checks the provider's JWTs with its one ES256 key."""

    issuer: str
    key: ECKey

    @property
    def kid(self) -> str:
        return str(self.key.kid)

    def sign(self, claims: dict[str, Any], *, typ: str = "JWT") -> str:
        header = {"alg": ALGORITHM, "kid": self.kid, "typ": typ}
        return jwt.encode(header, claims, self.key, algorithms=[ALGORITHM])

    def access_token(self, *, client_id: str, sub: str, scope: str, grant: str, lifetime: int) -> str:
        """``grant`` is the hash of the code it was issued for: revoking the code revokes the token."""
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.issuer,
            "sub": sub,
            "client_id": client_id,
            "scope": scope,
            "iat": now,
            "exp": now + lifetime,
            "jti": grant,
        }
        return self.sign(claims, typ=ACCESS_TOKEN_TYPE)

    def access_token_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid, unexpired access token of this issuer; ``None`` for anything else."""
        try:
            decoded = jwt.decode(token, self.key, algorithms=[ALGORITHM])
            if decoded.header.get("typ") != ACCESS_TOKEN_TYPE or decoded.header.get("kid") != self.kid:
                return None
            registry = jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.issuer},
                exp={"essential": True},
                sub={"essential": True},
                jti={"essential": True},
                client_id={"essential": True},
            )
            registry.validate(decoded.claims)
        except (JoseError, ValueError):
            return None
        return dict(decoded.claims)
