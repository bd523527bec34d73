"""The OpenID Connect providers people sign in with: what the configuration says, resolved once at start.

Two sources in the configuration, plus what the floors above add, in one registry:

- ``[[identity.providers]]`` in ``gateway.toml``: the syndicate's providers for
  residents, FranceConnect above all;
- ``[identity] citizen_provider`` and ``staff_provider`` in a commune's file: a
  commune's own provider for its residents, and the one its staff sign in
  with (the commune's directory, which does the second factor itself);
- the sources registered with :func:`add_provider_source`: the demo
  (:mod:`gateway.demo`, floor 8) registers its own provider there when it is
  imported, so this module never names it. Its providers are flagged
  ``demo``: a demo staff directory stands in for the staff provider of a
  commune that has none of its own.

Keys are unique across all of them (checked with the settings), so a key
names one provider in addresses, in the session row and in the audit log.
Client secrets are read from the environment variables the files name.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from gateway.identity.claims import SCOPE_CLAIMS
from gateway.settings import IdentityProviderSection, Settings

Purpose = Literal["citizen", "staff"]

FRANCECONNECT_KEY = "franceconnect"


def names_franceconnect(key: str) -> bool:
    """Whether a provider's key says it is FranceConnect (``franceconnect``, ``franceconnect-plus``...)."""
    return key == FRANCECONNECT_KEY or key.startswith(FRANCECONNECT_KEY + "-")


@dataclass(frozen=True)
class Provider:
    """One provider, ready to use: its expected issuer, where its metadata is, and the gateway's client."""

    key: str
    display_name: str
    purpose: Purpose
    issuer: str
    discovery_url: str
    client_id: str
    #: None when the environment variable is not set (only possible when settings were loaded without secrets)
    client_secret: str | None = field(repr=False)
    scopes: tuple[str, ...]
    acr_values: str | None
    pkce: bool
    post_logout_redirect: str
    #: the commune whose file declares it (None: the syndicate's, or the demo)
    commune: str | None = None
    commune_name: str | None = None
    demo: bool = False
    #: userinfo must come as a signed JWT (FranceConnect's always does): plain JSON is refused
    signed_userinfo: bool = False
    #: scopes asked only when a service needs a claim they release (``scopes`` are asked every time)
    offered_scopes: tuple[str, ...] = ()

    @property
    def is_franceconnect(self) -> bool:
        return names_franceconnect(self.key)

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)

    @property
    def claims(self) -> frozenset[str]:
        """The identity claims its base scopes release."""
        return released_claims(self.scopes)

    def can_give(self, claim: str) -> bool:
        """Whether a scope it is configured with (base or offered) releases ``claim``."""
        return claim in released_claims((*self.scopes, *self.offered_scopes))

    def scopes_for(self, claims: Iterable[str]) -> tuple[str, ...]:
        """The base scopes plus, for each claim they do not release, the narrowest offered scope that does.

        A claim no offered scope releases is not asked for (``guichet check`` warns about it).
        """
        scopes = list(self.scopes)
        for claim in claims:
            if claim in released_claims(scopes):
                continue
            givers = [scope for scope in self.offered_scopes if claim in SCOPE_CLAIMS.get(scope, ())]
            if givers:
                scopes.append(min(givers, key=lambda scope: len(SCOPE_CLAIMS[scope])))
        return tuple(scopes)

    @property
    def origin(self) -> str:
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"


def released_claims(scopes: Iterable[str]) -> frozenset[str]:
    """The identity claims these scopes release (the only ones a sign-in keeps)."""
    return frozenset(claim for scope in scopes for claim in SCOPE_CLAIMS.get(scope, ()))


@dataclass(frozen=True)
class ProviderRegistry:
    """Every provider by key; residents' ones in display order, staff ones by commune."""

    providers: Mapping[str, Provider]

    def get(self, key: str | None) -> Provider | None:
        return self.providers.get(key or "")

    @property
    def citizen(self) -> list[Provider]:
        return [provider for provider in self.providers.values() if provider.purpose == "citizen"]

    def staff_of(self, commune: str | None, *, with_demo: bool = False) -> Provider | None:
        """The commune's own staff provider; ``with_demo``: or the demo directory standing in for it (to sign in).

        ``None`` asks for the syndicate's staff directory (a staff provider of no commune: only the demo's, today).

        Linking an account (``guichet users link-oidc``) asks without ``with_demo``: no account is ever
        linked by hand to a fictitious agent of the demo directory.
        """
        return next(
            (p for p in self.providers.values()
             if p.purpose == "staff" and p.commune == commune and (with_demo or not p.demo)),
            None,
        )  # fmt: skip

    @property
    def staff(self) -> list[Provider]:
        return [provider for provider in self.providers.values() if provider.purpose == "staff"]


def _from_section(
    section: IdentityProviderSection, purpose: Purpose, *, commune: str | None = None, commune_name: str | None = None
) -> Provider:
    return Provider(
        key=section.key,
        display_name=section.display_name,
        purpose=purpose,
        issuer=section.expected_issuer,
        discovery_url=section.metadata_url,
        client_id=section.client_id,
        client_secret=os.environ.get(section.client_secret_env) or None,
        scopes=section.scopes,
        acr_values=section.acr_values,
        pkce=section.pkce,
        post_logout_redirect=section.post_logout_redirect,
        commune=commune,
        commune_name=commune_name,
        signed_userinfo=(
            names_franceconnect(section.key) if section.signed_userinfo is None else section.signed_userinfo
        ),
        offered_scopes=section.offered_scopes,
    )


#: computes providers from the settings; returns none when its part of the deployment is off
ProviderSource = Callable[[Settings], Iterable[Provider]]
_sources: list[ProviderSource] = []


def add_provider_source(source: ProviderSource) -> None:
    """Add providers derived from the settings to every registry (the demo registers its own on import).

    Registering the same source twice adds it once.
    """
    if source not in _sources:
        _sources.append(source)


def provider_registry(settings: Settings) -> ProviderRegistry:
    """Every provider of the deployment (the settings have checked that keys are unique)."""
    found: list[Provider] = [_from_section(section, "citizen") for section in settings.identity.providers]
    for commune in settings.communes:
        if commune.identity.citizen_provider is not None:
            found.append(_from_section(commune.identity.citizen_provider, "citizen", commune=commune.slug,
                                       commune_name=commune.name))  # fmt: skip
    for commune in settings.communes:
        if commune.identity.staff_provider is not None:
            found.append(_from_section(commune.identity.staff_provider, "staff", commune=commune.slug,
                                       commune_name=commune.name))  # fmt: skip
    for source in _sources:
        found.extend(source(settings))
    return ProviderRegistry({provider.key: provider for provider in found})


@dataclass(frozen=True)
class StaffChoice:
    """A button on the staff sign-in page: sign in with the account of this commune."""

    commune: str
    commune_name: str
    #: through the demo directory of fictitious agents, not the commune's own provider
    demo: bool = False


def staff_sign_in_choices(settings: Settings) -> list[StaffChoice]:
    """The communes whose staff can sign in with a provider: their own, or a demo directory standing in for it."""
    staff = provider_registry(settings).staff
    demo = {provider.commune for provider in staff if provider.demo}
    own = {provider.commune for provider in staff if not provider.demo}
    return [StaffChoice(commune.slug, commune.name, demo=commune.slug in demo) for commune in settings.communes
            if commune.slug in own or commune.slug in demo]  # fmt: skip


def syndicate_staff_sign_in(settings: Settings) -> bool:
    """Whether the staff sign-in page offers the syndicate's staff directory (the demo's, for its auditor and
    administrator)."""
    return provider_registry(settings).staff_of(None, with_demo=True) is not None


def form_action_sources(settings: Settings) -> tuple[str, ...]:
    """The providers' origins, which the pages' CSP ``form-action`` must allow.

    Browsers apply ``form-action`` to every redirect a form submission leads
    to: the sign-in buttons and the sign-out button are forms whose answer
    redirects to the provider, so its origin must be listed or the browser
    stops there. The gateway's own origin (the demo provider) is ``'self'``.
    """
    own = urlsplit(settings.gateway.public_base_url)
    own_origin = f"{own.scheme}://{own.netloc}"
    origins = _unique(provider.origin for provider in provider_registry(settings).providers.values())
    return tuple(origin for origin in origins if origin != own_origin)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
