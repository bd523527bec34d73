"""The local citizen accounts' pages and the personal-data export, registered as a default plugin."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.pages import account_pages


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return account_pages.routes()
