"""Sign-in with OpenID Connect and sign-out, registered as a default plugin."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.pages import oidc_pages
from gateway.settings import Settings


@hookimpl
def guichet_core_routes(settings: Settings) -> list[BaseRoute]:
    return oidc_pages.routes(settings)
