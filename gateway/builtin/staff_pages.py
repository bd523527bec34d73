"""Staff sign-in, the staff home page and API tokens, registered as a default plugin."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.pages import staff_pages


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return staff_pages.routes()
