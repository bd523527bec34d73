"""A citizen's access log, as pages, downloads and JSON, registered as a default plugin."""

from __future__ import annotations

from starlette.routing import BaseRoute

from gateway import hookimpl
from gateway.api import access_log
from gateway.pages import access_log_pages


@hookimpl
def guichet_routes() -> list[BaseRoute]:
    return [*access_log_pages.routes(), *access_log.routes()]
