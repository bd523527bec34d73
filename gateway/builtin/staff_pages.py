"""Staff sign-in, the staff home page, API tokens and staff management, registered as a default plugin."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.pages import staff_admin_pages, staff_pages


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return [*staff_pages.routes(), *staff_admin_pages.routes()]
