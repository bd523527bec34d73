"""The demo provider as the gateway's login sees it: the providers it adds to the registry.

When ``demo_identity.enabled`` is on, the gateway signs residents in with its
own demo provider (key ``demo``, credentials derived from the secret key), and
the same provider stands in for the staff directory of every commune that has
none of its own (key ``demo.<commune>``, fictitious agents), and for the
syndicate's (key ``demo.syndicat``: its auditor and administrator, a staff
provider of no commune), so a newcomer sees the back office and the audit
console without an authenticator app.

The identity floor does not know the demo: importing this module registers
:func:`demo_providers` with :func:`gateway.identity.providers.add_provider_source`.
"""

from __future__ import annotations

from gateway.demo.identity_provider.clients import (
    demo_client_credentials,
    demo_staff_communes,
    discovery_url,
    issuer_url,
    staff_client_credentials,
)
from gateway.demo.identity_provider.people import SYNDICATE
from gateway.identity.providers import Provider, add_provider_source
from gateway.settings import Settings

DEMO_KEY = "demo"
#: what the demo provider is asked for: the same minimum as a configured provider's default
DEMO_SCOPES = ("openid", "given_name", "family_name", "email")
#: for residents, what a service may add (its identity claims, e.g. the civil-status service's birth claims)
DEMO_OFFERED_SCOPES = ("birthdate", "birthplace", "birthcountry", "gender")


def demo_provider(settings: Settings) -> Provider:
    """The gateway's own demo provider, as a relying party of it sees it."""
    client_id, secret = demo_client_credentials(settings)
    return Provider(
        key=DEMO_KEY,
        display_name="Démonstration",
        purpose="citizen",
        issuer=issuer_url(settings),
        discovery_url=discovery_url(settings),
        client_id=client_id,
        client_secret=secret,
        scopes=DEMO_SCOPES,
        offered_scopes=DEMO_OFFERED_SCOPES,
        acr_values="eidas1",
        pkce=True,
        post_logout_redirect="/",
        demo=True,
    )


def demo_staff_provider(settings: Settings, commune: str, commune_name: str) -> Provider:
    """The demo provider as a commune's staff directory (demo only, for a commune without a staff provider)."""
    return _staff_directory(
        settings,
        commune,
        commune,
        f"Annuaire de démonstration de {commune_name}",
        commune=commune,
        commune_name=commune_name,
    )


def demo_syndicate_staff_provider(settings: Settings) -> Provider:
    """The demo provider as the syndicate's staff directory: a staff provider of no commune (``commune=None``)."""
    return _staff_directory(settings, "syndicat", SYNDICATE, "Annuaire de démonstration du syndicat")


def _staff_directory(
    settings: Settings,
    suffix: str,
    directory: str,
    display_name: str,
    *,
    commune: str | None = None,
    commune_name: str | None = None,
) -> Provider:
    """The demo provider as one staff directory: keyed ``demo.<suffix>`` (a dot: no configured key can take it),
    with the client credentials of ``directory`` (a commune's slug, or the syndicate's)."""
    client_id, secret = staff_client_credentials(settings, directory)
    return Provider(
        key=f"{DEMO_KEY}.{suffix}",
        display_name=display_name,
        purpose="staff",
        issuer=issuer_url(settings),
        discovery_url=discovery_url(settings),
        client_id=client_id,
        client_secret=secret,
        scopes=DEMO_SCOPES,
        acr_values="eidas1",
        pkce=True,
        post_logout_redirect="/agents/connexion",
        commune=commune,
        commune_name=commune_name,
        demo=True,
    )


def demo_providers(settings: Settings) -> list[Provider]:
    """The demo provider for residents, then one staff directory per commune without its own and the syndicate's
    (none when off)."""
    if not settings.demo_identity.enabled:
        return []
    staff = [demo_staff_provider(settings, slug, name) for slug, name in demo_staff_communes(settings)]
    syndicate = [demo_syndicate_staff_provider(settings)] if staff else []
    return [demo_provider(settings), *staff, *syndicate]


add_provider_source(demo_providers)
