"""The demo identity provider's routes, a demo plugin (registered in demo deployments only).

Settings refuse ``demo_identity.enabled`` outside a demo on loopback; this
plugin adds no route at all unless it is on.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.demo.identity_provider import demo_provider_routes
from gateway.settings import Settings


@hookimpl
def guichet_core_routes(settings: Settings) -> list[BaseRoute]:
    if not settings.demo_identity.enabled:
        return []
    return demo_provider_routes(settings)
