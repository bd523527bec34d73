"""The OpenID Provider metadata (``/.well-known/openid-configuration``), FranceConnect v2's shape.

A relying party configured with the discovery URL finds everything here, so the
gateway's login code can be pointed at FranceConnect or at this provider alike.
"""

from __future__ import annotations

from typing import Any

from gateway.demo.identity_provider.grants import ACR_VALUES
from gateway.demo.identity_provider.keys import ALGORITHM
from gateway.demo.identity_provider.people import CLAIMS
from gateway.demo.identity_provider.server import SCOPES_SUPPORTED

AUTHORIZE = "/authorize"
TOKEN = "/token"  # noqa: S105  (a path, not a secret)
USERINFO = "/userinfo"
JWKS = "/jwks"
END_SESSION = "/session/end"
DISCOVERY = "/.well-known/openid-configuration"


def provider_metadata(issuer: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": issuer + AUTHORIZE,
        "token_endpoint": issuer + TOKEN,
        "userinfo_endpoint": issuer + USERINFO,
        "jwks_uri": issuer + JWKS,
        "end_session_endpoint": issuer + END_SESSION,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "userinfo_signing_alg_values_supported": [ALGORITHM],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": list(ACR_VALUES),
        "scopes_supported": list(SCOPES_SUPPORTED),
        "claims_supported": ["sub", *CLAIMS],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "prompt_values_supported": ["login", "consent", "none"],
    }
