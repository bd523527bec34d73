"""What a plugin may know about the deployment it runs in: public facts, never a secret.

The core's :class:`gateway.settings.Settings` holds the secret key, database
address and identity providers' credentials; a plugin receives this narrow,
read-only view instead (``guichet_routes``), so no plugin depends on, or can
leak, what only the core needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.settings import Settings

#: the languages every page and message is written in, French first
LOCALES = ("fr", "en")


@dataclass(frozen=True)
class DeploymentSettings:
    """The deployment as a plugin sees it: its name, public address, languages and whether it is a demo.

    Read-only and free of secrets; build absolute links with :meth:`url`.
    """

    #: the gateway's name, shown in pages and e-mails ("Guichet du Syndicat ...")
    name: str
    #: the address citizens reach the gateway at, without a trailing slash (``https://guichet.example``)
    public_base_url: str
    #: the language of a visitor who chose none
    default_locale: str = "fr"
    #: every language offered
    locales: tuple[str, ...] = LOCALES
    #: a demonstration deployment (fictitious people, demo mailbox): never serve real requests
    demo: bool = False

    @property
    def https(self) -> bool:
        return self.public_base_url.startswith("https://")

    def url(self, path: str) -> str:
        """The absolute address of ``path`` (``/corbas/contact``) on this gateway."""
        return self.public_base_url.rstrip("/") + "/" + path.lstrip("/")

    @classmethod
    def from_settings(cls, settings: Settings) -> DeploymentSettings:
        section = settings.gateway
        return cls(
            name=section.name,
            public_base_url=section.public_base_url.rstrip("/"),
            default_locale=section.default_locale,
            demo=section.demo,
        )
