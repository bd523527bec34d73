"""``[[identity.providers]]``: the OpenID Connect providers people sign in with, checked on their own."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from gateway.settings.base import Strict, is_loopback

#: where an OpenID provider publishes its metadata, relative to its issuer (OpenID Connect Discovery 1.0, §4)
WELL_KNOWN_OPENID = "/.well-known/openid-configuration"
#: keys the gateway gives its own providers or paths, which a configured provider may not take
RESERVED_PROVIDER_KEYS = frozenset({"demo", "retour"})


def _provider_url(value: str | None) -> str | None:
    """An identity provider's address: https, or plain http on a loopback address (tests, demo)."""
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("must be an absolute https:// address")
    if parts.scheme == "http" and not is_loopback(value):
        raise ValueError("must use https:// (plain http:// is only accepted on a loopback address)")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("must have no query, fragment or credentials")
    return value


class IdentityProviderSection(Strict):
    """An OpenID Connect provider the gateway signs people in with (FranceConnect, a commune's own...)."""

    #: short name in addresses (/connexion/<key>) and in the audit log
    key: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=40)
    #: shown on the sign-in button
    display_name: str = Field(min_length=1, max_length=100)
    #: the provider's metadata; defaults to <issuer>/.well-known/openid-configuration
    discovery_url: str | None = None
    #: the exact ``iss`` of its tokens; defaults to discovery_url without /.well-known/openid-configuration
    issuer: str | None = None
    client_id: str = Field(min_length=1, max_length=255)
    #: NAME of the environment variable holding the client secret (never the secret itself)
    client_secret_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=100)
    #: asked at every sign-in: what every service needs
    scopes: tuple[str, ...] = ("openid", "given_name", "family_name", "email")
    #: asked only at a sign-in started from a service that needs a claim they release (FranceConnect:
    #: "birthdate", "birthplace"...); `guichet check` warns when a service needs a claim no scope here gives
    offered_scopes: tuple[str, ...] = ()
    #: e.g. "eidas1"; the ``acr`` returned must be at least this level
    acr_values: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_:./-]+( [A-Za-z0-9_:./-]+)*$", max_length=200)
    #: send a PKCE S256 challenge (always, advertised or not); false only for a provider that rejects it
    pkce: bool = True
    #: refuse userinfo sent as plain JSON (it must be a JWT signed by the provider); unset: on for FranceConnect
    signed_userinfo: bool | None = None
    #: the page of this site a person is offered once signed out
    post_logout_redirect: str = Field(default="/", max_length=200)

    @field_validator("discovery_url", "issuer")
    @classmethod
    def _provider_address(cls, value: str | None) -> str | None:
        return _provider_url(value)

    @field_validator("key")
    @classmethod
    def _key_not_reserved(cls, value: str) -> str:
        if value in RESERVED_PROVIDER_KEYS:
            raise ValueError(f"'{value}' is reserved for the gateway's own use")
        return value

    @field_validator("scopes")
    @classmethod
    def _openid_scopes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "openid" not in value:
            raise ValueError("must contain 'openid'")
        for scope in value:
            if not scope or not all(char.isalnum() or char in "_-:." for char in scope):
                raise ValueError(f"{scope!r} is not a scope name")
        if len(set(value)) != len(value):
            raise ValueError("lists a scope twice")
        return value

    @field_validator("offered_scopes")
    @classmethod
    def _offered_scopes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for scope in value:
            if scope == "openid" or not scope or not all(char.isalnum() or char in "_-:." for char in scope):
                raise ValueError(f"{scope!r} is not a scope a service may add")
        if len(set(value)) != len(value):
            raise ValueError("lists a scope twice")
        return value

    @field_validator("post_logout_redirect")
    @classmethod
    def _local_path(cls, value: str) -> str:
        if not value.startswith("/") or value.startswith("//") or "\\" in value or urlsplit(value).netloc:
            raise ValueError("must be a path of this site, such as /")
        return value

    @model_validator(mode="after")
    def _where_to_find_it(self) -> IdentityProviderSection:
        if self.discovery_url is None and self.issuer is None:
            raise ValueError("give the provider's issuer or its discovery_url")
        if self.issuer is None and not (self.discovery_url or "").endswith(WELL_KNOWN_OPENID):
            raise ValueError(f"give the issuer too: discovery_url does not end with {WELL_KNOWN_OPENID}")
        return self

    @property
    def expected_issuer(self) -> str:
        """The issuer every token must name, exactly."""
        return self.issuer or (self.discovery_url or "").removesuffix(WELL_KNOWN_OPENID)

    @property
    def metadata_url(self) -> str:
        return self.discovery_url or (self.issuer or "").rstrip("/") + WELL_KNOWN_OPENID


class IdentitySection(Strict):
    """Identity providers citizens can sign in with (``[[identity.providers]]``)."""

    providers: tuple[IdentityProviderSection, ...] = ()
