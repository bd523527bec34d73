"""The agents' back-office pages (``/agents/{commune}/...``), registered as a default plugin."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.pages import agent_places_pages, agent_queue_pages, agent_request_pages, counter_filing_pages


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return [
        *agent_queue_pages.routes(),
        *agent_places_pages.routes(),
        *agent_request_pages.routes(),
        *counter_filing_pages.routes(),
    ]
