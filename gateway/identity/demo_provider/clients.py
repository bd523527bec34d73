"""The relying parties the demo provider knows: the gateway itself, plus any a test registers.

Clients are configuration, not data: the gateway's own client is derived from
the deployment settings (its secret from the gateway's secret key), so every
process computes the same one and nothing is stored. Tests pass extra
clients to :func:`gateway.identity.demo_provider.routes.demo_provider_routes`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list

from gateway.identity.claims import SCOPE_CLAIMS
from gateway.settings import Settings

#: the base path of the provider, FranceConnect's ``/api/v2`` layout behind a ``/demo-idp`` prefix
ISSUER_PATH = "/demo-idp/api/v2"
DEMO_CLIENT_ID = "guichet-demo"
#: where the gateway's citizen login receives the code, and where it lands after logout
LOGIN_CALLBACK_PATH = "/connexion/retour"
LOGOUT_CALLBACK_PATH = "/deconnexion/retour"


def issuer_url(settings: Settings) -> str:
    """The issuer the gateway's login must expect, exactly (``iss`` of every token)."""
    return settings.gateway.public_base_url + ISSUER_PATH


def discovery_url(settings: Settings) -> str:
    return issuer_url(settings) + "/.well-known/openid-configuration"


def demo_client_credentials(settings: Settings) -> tuple[str, str]:
    """The gateway's client id and secret at the demo provider (the secret derives from the secret key)."""
    secret = hmac.new(settings.secret_key, b"demo-idp-client-secret", hashlib.sha256).hexdigest()
    return DEMO_CLIENT_ID, secret


@dataclass(frozen=True)
class DemoClient(ClientMixin):  # type: ignore[misc]  # authlib ships no type hints
    """A confidential client using ``client_secret_post``, with exact redirect URIs."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()
    name: str = ""
    client_metadata: dict[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        # authlib's end-session endpoint reads the registered logout URIs from client_metadata
        self.client_metadata["post_logout_redirect_uris"] = list(self.post_logout_redirect_uris)

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # redirect_uri is required: FranceConnect has no default either

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = {"openid", *SCOPE_CLAIMS}
        kept = dict.fromkeys(item for item in scope_to_list(scope) or [] if item in allowed)  # no duplicates
        return str(list_to_scope(list(kept)))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return secrets.compare_digest(self.client_secret.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method == "client_secret_post"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


def gateway_client(settings: Settings, *, extra_redirect_uris: tuple[str, ...] = ()) -> DemoClient:
    """The gateway as a relying party of its own demo provider."""
    client_id, secret = demo_client_credentials(settings)
    base = settings.gateway.public_base_url
    return DemoClient(
        client_id=client_id,
        client_secret=secret,
        redirect_uris=(base + LOGIN_CALLBACK_PATH, *extra_redirect_uris),
        post_logout_redirect_uris=(base + LOGOUT_CALLBACK_PATH,),
        name=settings.gateway.name,
    )
