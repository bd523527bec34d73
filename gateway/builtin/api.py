"""The JSON API v1 and its OpenAPI document, registered as a default plugin."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.api import agent_requests, citizen_requests, v1


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return [*v1.routes(), *citizen_requests.routes(), *agent_requests.routes()]
