"""A demo OpenID Connect provider shaped like FranceConnect v2, with fictitious people.

Demo deployments only (``demo_identity.enabled``, refused off loopback): after
``make run`` a newcomer signs in as an invented citizen in two clicks, and the
gateway's FranceConnect login is exercised end to end over real HTTP.

What the gateway's login code needs is re-exported here: the issuer and
discovery URLs, the gateway's client credentials and its callback paths.
"""

from gateway.demo.identity_provider.clients import (
    DEMO_CLIENT_ID,
    ISSUER_PATH,
    LOGIN_CALLBACK_PATH,
    LOGOUT_CALLBACK_PATH,
    DemoClient,
    demo_client_credentials,
    discovery_url,
    gateway_client,
    issuer_url,
)
from gateway.demo.identity_provider.routes import demo_provider_routes

__all__ = [
    "DEMO_CLIENT_ID",
    "ISSUER_PATH",
    "LOGIN_CALLBACK_PATH",
    "LOGOUT_CALLBACK_PATH",
    "DemoClient",
    "demo_client_credentials",
    "demo_provider_routes",
    "discovery_url",
    "gateway_client",
    "issuer_url",
]
