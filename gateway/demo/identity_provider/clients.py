"""The relying parties the demo provider knows: the gateway itself, plus any a test registers.

The gateway is a client twice over: once for residents (FranceConnect's
part), and once per commune without a staff provider of its own, standing in
for that commune's staff directory (one client per commune, so the chooser
offers only that commune's fictitious agents and each gets its own pairwise
``sub``); one more stands in for the syndicate's own staff directory (its
auditor and administrator, :data:`~gateway.demo.identity_provider.people.SYNDICATE`).

Clients are configuration, not data: the gateway's own clients are derived from
the deployment settings (their secrets from the gateway's secret key), so every
process computes the same ones and nothing is stored. Tests pass extra
clients to :func:`gateway.demo.identity_provider.routes.demo_provider_routes`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list

from gateway.demo.identity_provider.people import SYNDICATE
from gateway.identity.claims import SCOPE_CLAIMS
from gateway.settings import Settings

#: the base path of the provider, FranceConnect's ``/api/v2`` layout behind a ``/demo-idp`` prefix
ISSUER_PATH = "/demo-idp/api/v2"
DEMO_CLIENT_ID = "guichet-demo"
#: how the syndicate's demo staff directory is named in the gateway's client name
SYNDICATE_NAME = "syndicat"
#: followed by the commune's slug: the gateway as a relying party of a commune's demo staff directory
STAFF_CLIENT_PREFIX = "guichet-demo-agents-"
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


def staff_client_credentials(settings: Settings, commune: str) -> tuple[str, str]:
    """The gateway's client id and secret at a commune's demo staff directory (derived from the secret key)."""
    message = b"demo-idp-staff-client-secret\x00" + commune.encode()
    return STAFF_CLIENT_PREFIX + commune, hmac.new(settings.secret_key, message, hashlib.sha256).hexdigest()


def demo_staff_communes(settings: Settings) -> list[tuple[str, str]]:
    """(slug, name) of the communes whose staff sign in through the demo provider (demo on, no own provider)."""
    if not settings.demo_identity.enabled:
        return []
    return [(commune.slug, commune.name) for commune in settings.communes if commune.identity.staff_provider is None]


def demo_staff_directories(settings: Settings) -> list[tuple[str, str]]:
    """Every demo staff directory: the communes' (:func:`demo_staff_communes`), then the syndicate's, if any."""
    communes = demo_staff_communes(settings)
    return [*communes, (SYNDICATE, SYNDICATE_NAME)] if communes else []


@dataclass(frozen=True)
class DemoClient(ClientMixin):  # type: ignore[misc]  # authlib ships no type hints
    """A confidential client using ``client_secret_post``, with exact redirect URIs."""

    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...] = ()
    name: str = ""
    #: a commune's slug (or the syndicate's directory, ``people.SYNDICATE``): this client signs in that
    #: directory's fictitious staff, not residents
    commune: str | None = None
    commune_name: str = ""
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


def staff_clients(settings: Settings) -> list[DemoClient]:
    """The gateway as a relying party of each commune's demo staff directory (none unless the demo provider is on),
    then of the syndicate's."""
    base = settings.gateway.public_base_url
    clients = []
    for slug, name in demo_staff_directories(settings):
        client_id, secret = staff_client_credentials(settings, slug)
        clients.append(
            DemoClient(
                client_id=client_id,
                client_secret=secret,
                redirect_uris=(base + LOGIN_CALLBACK_PATH,),
                post_logout_redirect_uris=(base + LOGOUT_CALLBACK_PATH,),
                name=f"{settings.gateway.name} — {name}",
                commune=slug,
                commune_name=name,
            )
        )
    return clients
