"""The auditor console and its JSON search, registered as a default plugin."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.pages import audit_pages


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return audit_pages.routes()
