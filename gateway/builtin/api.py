"""The JSON API v1 and its OpenAPI document, registered as a default plugin."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.api import (
    agent_places,
    agent_queue,
    agent_requests,
    citizen_requests,
    counter_filing,
    issued_documents,
    v1,
)


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return [
        *v1.routes(),
        *citizen_requests.routes(),
        *agent_queue.routes(),
        *agent_places.routes(),
        *agent_requests.routes(),
        *counter_filing.routes(),
        *issued_documents.routes(),
    ]
