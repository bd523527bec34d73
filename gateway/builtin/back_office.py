"""The agents' back-office pages: queues, a request's file, transitions, notes, exports, counter filing.

Registered as a default plugin through ``guichet_routes``.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return []
