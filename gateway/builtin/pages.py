"""The citizen-facing pages (home, commune pages, service forms, receipts), registered as a default plugin."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.pages import portal_pages


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return portal_pages.routes()
